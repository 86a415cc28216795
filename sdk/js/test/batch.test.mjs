// Batching: calls that are not awaited go together through /v1/batch, each
// promise settles on its own item, the limits are kept, and one person's
// calls stay in order.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { TinyCRM } from "tinycrm-sdk";
import { countingFetch, unique, useServer } from "./helpers.mjs";

const srv = useServer();
let key;
before(async () => {
  key = (await srv.admin.createProject(unique("batch"))).key;
});

test("calls made in the same tick go as one batch request, and all land", async () => {
  const f = countingFetch();
  const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url, fetch: f });
  const emails = Array.from({ length: 50 }, (_, i) => `${unique(`tick${i}`)}@example.com`);
  const results = await Promise.all(emails.map((email, i) => crm.identify({ email, status: "free", params: { n: i } })));
  assert.equal(f.requests.length, 1);
  assert.equal(f.requests[0].path, "/v1/batch");
  assert.equal(f.requests[0].body.items.length, 50);
  assert.deepEqual(results, emails.map(() => ({ duplicate: false })));
  const ids = new Set(f.requests[0].body.items.map((i) => i.message_id));
  assert.equal(ids.size, 50, "every call has its own message id");
  for (const [i, email] of [emails[0], emails[49]].entries()) {
    const c = await srv.admin.customer(email);
    assert.deepEqual(c.projects[0].params, { n: i * 49 });
  }
});

test("a lone call goes to /v1/identify", async () => {
  const f = countingFetch();
  const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url, fetch: f });
  await crm.identify({ email: `${unique("lone")}@example.com` });
  assert.deepEqual(f.requests.map((r) => r.path), ["/v1/identify"]);
});

test("2500 calls go as batches of at most 1000 and every promise resolves", async () => {
  const f = countingFetch();
  const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url, fetch: f });
  const tag = unique("many");
  const results = await Promise.all(
    Array.from({ length: 2500 }, (_, i) => crm.identify({ email: `${tag}-${i}@example.com`, status: "trialing" })),
  );
  assert.equal(results.length, 2500);
  assert.ok(results.every((r) => r.duplicate === false));
  assert.deepEqual(f.requests.map((r) => r.body.items.length).sort((a, b) => b - a), [1000, 1000, 500]);
  assert.ok(await srv.admin.customer(`${tag}-0@example.com`));
  assert.ok(await srv.admin.customer(`${tag}-2499@example.com`));
});

test("batches stay under 4 MiB: large items are split across requests", async () => {
  const f = countingFetch();
  const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url, fetch: f });
  const tag = unique("big");
  const filler = "x".repeat(15_000); // params just under the 16 KiB limit
  const results = await Promise.all(
    Array.from({ length: 400 }, (_, i) => crm.identify({ email: `${tag}-${i}@example.com`, params: { filler } })),
  );
  assert.ok(results.every((r) => r.duplicate === false));
  assert.ok(f.requests.length >= 2, `split into ${f.requests.length} requests`);
  for (const r of f.requests) {
    const bytes = Buffer.byteLength(JSON.stringify(r.body));
    assert.ok(bytes <= 4 << 20, `a batch of ${bytes} bytes`);
  }
  assert.equal(f.requests.reduce((n, r) => n + r.body.items.length, 0), 400);
});

test("flush() sends what is queued and resolves when it has landed", async () => {
  const f = countingFetch();
  const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url, fetch: f, flushIntervalMs: 60_000 });
  const emails = Array.from({ length: 3 }, (_, i) => `${unique(`flush${i}`)}@example.com`);
  const calls = emails.map((email) => crm.identify({ email }));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(f.requests.length, 0, "held for the flush interval");
  await crm.flush();
  assert.equal(f.requests.length, 1);
  for (const email of emails) assert.ok(await srv.admin.customer(email), `${email} landed before flush resolved`);
  assert.deepEqual(await Promise.all(calls), emails.map(() => ({ duplicate: false })));
  await crm.flush(); // nothing queued: resolves at once
  assert.equal(f.requests.length, 1);
});

test("one person's calls reach the server in call order, even across concurrent batches", async () => {
  const f = countingFetch();
  // Tiny batches and several in flight: the worst case for ordering.
  const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url, fetch: f, flushAt: 2, concurrency: 8 });
  const email = `${unique("order")}@example.com`;
  const statuses = ["trialing", "paid", "churned", "free", "paid", "trialing", "churned", "paid"];
  const calls = [];
  for (const [i, status] of statuses.entries()) {
    calls.push(crm.identify({ email, status }));
    calls.push(crm.identify({ email: `${unique(`other${i}`)}@example.com` }));
  }
  await Promise.all(calls);
  assert.ok(f.requests.length >= 8);
  // Never two requests for her at once: each starts after the one before ended.
  const hers = f.requests.filter((r) => r.body.items?.some((i) => i.email === email) || r.body.email === email);
  const mine = (r) => (r.body.items ?? [r.body]).filter((i) => i.email === email).length;
  assert.equal(hers.reduce((n, r) => n + mine(r), 0), statuses.length);
  assert.ok(hers.length >= 2);
  for (let i = 1; i < hers.length; i++) assert.ok(hers[i].started > hers[i - 1].ended, `request ${i} overlapped the one before`);
  assert.ok(f.requests.some((a) => f.requests.some((b) => a !== b && a.started < b.ended && b.started < a.ended)), "other requests did run concurrently");
  const c = await srv.admin.customer(email);
  assert.equal(c.projects[0].status, "paid");
  const seen = c.timeline
    .slice()
    .reverse()
    .map((e) => (e.kind === "joined" ? e.after.status : e.after));
  assert.deepEqual(seen, statuses);
});

test("a batch whose items were all seen before resolves each as a duplicate", async () => {
  const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url });
  const items = Array.from({ length: 5 }, (_, i) => ({ email: `${unique(`again${i}`)}@example.com`, messageId: unique("m") }));
  assert.ok((await Promise.all(items.map((it) => crm.identify(it)))).every((r) => !r.duplicate));
  assert.ok((await Promise.all(items.map((it) => crm.identify(it)))).every((r) => r.duplicate));
});

test("a full queue refuses new calls at once instead of growing without bound", async () => {
  const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url, maxQueueSize: 2, flushIntervalMs: 60_000, onError: () => {} });
  const a = crm.identify({ email: `${unique("q1")}@example.com` });
  const b = crm.identify({ email: `${unique("q2")}@example.com` });
  const err = await crm.identify({ email: `${unique("q3")}@example.com` }).catch((e) => e);
  assert.equal(err.status, 0);
  assert.match(err.message, /queue is full/);
  await crm.flush();
  assert.deepEqual(await Promise.all([a, b]), [{ duplicate: false }, { duplicate: false }]);
});

test("without crypto.randomUUID (Node 18, plain-http pages) message ids are still unique UUIDs", async () => {
  const f = countingFetch();
  const saved = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  const crm = new TinyCRM({ apiKey: key, baseUrl: srv.url, fetch: f });
  const calls = [];
  try {
    for (const crypto of [undefined, { getRandomValues: (a) => globalThis.__realCrypto.getRandomValues(a) }]) {
      globalThis.__realCrypto = saved.get ? saved.get.call(globalThis) : saved.value;
      Object.defineProperty(globalThis, "crypto", { value: crypto, configurable: true, writable: true });
      for (let i = 0; i < 100; i++) calls.push(crm.identify({ email: `${unique("noc")}@example.com` }));
    }
  } finally {
    Object.defineProperty(globalThis, "crypto", saved);
    delete globalThis.__realCrypto;
  }
  await Promise.all(calls);
  const ids = f.requests.flatMap((r) => r.body.items.map((i) => i.message_id));
  assert.equal(ids.length, 200);
  assert.equal(new Set(ids).size, 200);
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
