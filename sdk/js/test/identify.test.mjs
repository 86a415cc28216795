// identify and ping against a real daemon: what they resolve to, how they
// fail, and where they send.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { TinyCRM, TinyCRMError } from "tinycrm-sdk";
import { countingFetch, unique, useServer } from "./helpers.mjs";

const srv = useServer();
let key;
before(async () => {
  key = (await srv.admin.createProject(unique("identify"))).key;
});
const quiet = () => {};

describe("identify", () => {
  test("resolves to { duplicate: false } once committed, and the customer is there", async () => {
    const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url });
    const email = `${unique("shape")}@example.com`;
    const res = await crm.identify({ email, name: "Bo Diaz", status: "paid", params: { plan: "pro", mrr: 19 } });
    assert.deepEqual(res, { duplicate: false });
    const c = await srv.admin.customer(email);
    assert.equal(c.name, "Bo Diaz");
    assert.equal(c.mrr_total, 19);
    assert.equal(c.projects[0].status, "paid");
  });

  test("the same messageId again resolves to { duplicate: true } and changes nothing", async () => {
    const crm = new TinyCRM(key, { baseUrl: srv.url });
    const email = `${unique("dup")}@example.com`;
    const messageId = unique("msg");
    assert.deepEqual(await crm.identify({ email, status: "free", messageId }), { duplicate: false });
    assert.deepEqual(await crm.identify({ email, status: "paid", messageId }), { duplicate: true });
    const c = await srv.admin.customer(email);
    assert.equal(c.projects[0].status, "free");
    assert.equal(c.timeline.length, 1);
  });

  test("a timestamp (Date, string or epoch ms) is sent as RFC 3339 and an older call does not overwrite", async () => {
    const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url });
    const email = `${unique("ts")}@example.com`;
    await crm.identify({ email, status: "paid", timestamp: new Date("2025-06-01T12:00:00Z") });
    await crm.identify({ email, status: "free", timestamp: Date.parse("2025-05-01T12:00:00Z") });
    await crm.identify({ email, status: "trialing", timestamp: "2025-04-01T12:00:00Z" });
    const c = await srv.admin.customer(email);
    assert.equal(c.projects[0].status, "paid");
    assert.equal(c.first_seen, "2025-04-01T12:00:00Z");
  });

  test("a bad email rejects with the server's own problem: status, field and detail", async () => {
    const f = countingFetch();
    const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url, fetch: f, onError: quiet });
    const body = { email: "not-an-email", status: "paid" };
    const raw = await fetch(`${srv.url}/v1/identify`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const problem = await raw.json();
    assert.equal(raw.status, 400);

    const err = await crm.identify(body).then(() => assert.fail("resolved"), (e) => e);
    assert.ok(err instanceof TinyCRMError);
    assert.equal(err.name, "TinyCRMError");
    assert.equal(err.status, 400);
    assert.equal(err.field, "email");
    assert.equal(err.detail, problem.detail);
    assert.equal(err.message, `email: ${problem.detail}`);
    assert.equal(err.retryable, false);
    assert.equal(f.requests.length, 1, "a 400 is never retried");
  });

  test("a bad item in a batch rejects alone, with the same message, and its neighbours land", async () => {
    const f = countingFetch();
    const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url, fetch: f, onError: quiet });
    const good = [`${unique("n1")}@example.com`, `${unique("n2")}@example.com`];
    const [a, bad, b, badStatus] = await Promise.allSettled([
      crm.identify({ email: good[0] }),
      crm.identify({ email: "Name <x@example.com>" }),
      crm.identify({ email: good[1] }),
      crm.identify({ email: `${unique("n3")}@example.com`, status: "Not A Token" }),
    ]);
    assert.equal(f.requests.length, 1);
    assert.equal(f.requests[0].path, "/v1/batch");
    assert.deepEqual(a, { status: "fulfilled", value: { duplicate: false } });
    assert.deepEqual(b, { status: "fulfilled", value: { duplicate: false } });
    assert.equal(bad.status, "rejected");
    assert.equal(bad.reason.field, "email");
    assert.equal(bad.reason.status, 400);
    const lone = await crm.identify({ email: "Name <x@example.com>" }).catch((e) => e);
    assert.equal(bad.reason.message, lone.message, "batch and lone calls fail alike");
    assert.equal(badStatus.status, "rejected");
    assert.equal(badStatus.reason.field, "status");
    for (const e of good) assert.ok(await srv.admin.customer(e), `${e} landed`);
  });

  test("a wrong key is a 401 that is not retried", async () => {
    const f = countingFetch();
    const crm = new TinyCRM({ apiKey: "tcrm_pk_not-a-real-key", baseUrl: srv.url, fetch: f, onError: quiet });
    const err = await crm.identify({ email: "a@example.com" }).catch((e) => e);
    assert.ok(err instanceof TinyCRMError);
    assert.equal(err.status, 401);
    assert.equal(f.requests.length, 1);
  });

  test("un-awaited failures go to onError instead of crashing the process", async () => {
    const seen = [];
    const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url, onError: (e) => seen.push(e) });
    crm.identify({ email: "bad" }); // not awaited, no catch
    await crm.flush();
    assert.equal(seen.length, 1);
    assert.equal(seen[0].field, "email");
  });
});

describe("ping", () => {
  test("moves last_seen of a member and resolves", async () => {
    const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url });
    const email = `${unique("ping")}@example.com`;
    await crm.identify({ email, timestamp: "2025-01-01T00:00:00Z" });
    assert.equal((await srv.admin.customer(email)).last_seen, "2025-01-01T00:00:00Z");
    assert.equal(await crm.ping(email), undefined);
    const c = await srv.admin.customer(email);
    assert.ok(Date.now() - Date.parse(c.last_seen) < 60_000, `last_seen moved to now, not ${c.last_seen}`);
    assert.equal(c.timeline.length, 1, "a ping is activity, not a change");
  });

  test("succeeds silently for an unknown email and creates nobody", async () => {
    const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url });
    const email = `${unique("ghost")}@example.com`;
    await crm.ping(email);
    assert.equal(await srv.admin.customer(email), null);
  });

  test("a ping made with an identify of a new person goes after it, so it finds them", async () => {
    const f = countingFetch();
    const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url, fetch: f });
    const email = `${unique("order")}@example.com`;
    await Promise.all([crm.identify({ email, timestamp: "2025-01-01T00:00:00Z" }), crm.ping(email)]);
    assert.deepEqual(f.requests.map((r) => r.path), ["/v1/identify", "/v1/ping"]);
    const c = await srv.admin.customer(email);
    assert.ok(Date.parse(c.last_seen) > Date.parse("2025-01-02T00:00:00Z"), "the ping moved last_seen");
  });

  test("a bad email rejects with the server's problem", async () => {
    const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url, onError: quiet });
    const err = await crm.ping("nope").catch((e) => e);
    assert.ok(err instanceof TinyCRMError);
    assert.equal(err.status, 400);
    assert.equal(err.field, "email");
  });
});

describe("construction", () => {
  test("a missing key throws at once, naming what to pass", () => {
    assert.throws(() => new TinyCRM({ apiKey: undefined }), /apiKey is required/);
    assert.throws(() => new TinyCRM(undefined), /apiKey is required/);
    assert.throws(() => new TinyCRM(""), /apiKey is required/);
  });

  test("an admin token is refused: apps send with a project key", () => {
    assert.throws(() => new TinyCRM("tcrm_at_abc"), /admin token/);
  });

  test("baseUrl defaults to TINYCRM_URL, then http://127.0.0.1:7070", () => {
    const saved = process.env.TINYCRM_URL;
    try {
      process.env.TINYCRM_URL = "http://crm.internal:8080/";
      assert.equal(new TinyCRM("tcrm_pk_x").baseUrl, "http://crm.internal:8080");
      delete process.env.TINYCRM_URL;
      assert.equal(new TinyCRM("tcrm_pk_x").baseUrl, "http://127.0.0.1:7070");
      assert.equal(new TinyCRM({ apiKey: "tcrm_pk_x", baseUrl: "https://x.example/crm" }).baseUrl, "https://x.example/crm");
    } finally {
      if (saved === undefined) delete process.env.TINYCRM_URL;
      else process.env.TINYCRM_URL = saved;
    }
  });

  test("works where there is no process (browsers, Deno without env access)", async () => {
    const saved = globalThis.process;
    let crm;
    try {
      Object.defineProperty(globalThis, "process", { value: undefined, configurable: true, writable: true });
      crm = new TinyCRM("tcrm_pk_x");
      const denied = { get env() { throw new Error("NotCapable: requires env access"); } };
      Object.defineProperty(globalThis, "process", { value: denied, configurable: true, writable: true });
      assert.equal(new TinyCRM("tcrm_pk_x").baseUrl, "http://127.0.0.1:7070");
    } finally {
      Object.defineProperty(globalThis, "process", { value: saved, configurable: true, writable: true });
    }
    assert.equal(crm.baseUrl, "http://127.0.0.1:7070");
  });

  test("the key is not visible on the object", () => {
    const crm = new TinyCRM({ apiKey: "tcrm_pk_secret", baseUrl: srv.url });
    assert.doesNotMatch(JSON.stringify(crm), /secret/);
    assert.ok(!Object.values(crm).some((v) => String(v).includes("secret")));
  });
});
