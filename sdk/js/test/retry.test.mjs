// Retries and idempotency: a wrapper fetch fails attempts in the ways a
// network and a server fail, and the admin API shows that every message
// landed exactly once: each message below makes one distinct change, so a
// customer's timeline has one event per message applied.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { TinyCRM, TinyCRMError } from "tinycrm-sdk";
import { countingFetch, messageIds, unique, useServer } from "./helpers.mjs";

const srv = useServer();
let key;
before(async () => {
  key = (await srv.admin.createProject(unique("retry"))).key;
});

const networkError = () => Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
const problem = (status, retryAfter) =>
  new Response(
    JSON.stringify({ type: "about:blank", title: "Busy", status, detail: "the database is unavailable or busy; nothing was acknowledged, retry later", retry_after: retryAfter }),
    { status, headers: { "content-type": "application/problem+json", ...(retryAfter ? { "retry-after": String(retryAfter) } : {}) } },
  );
const client = (fetch, more = {}) => new TinyCRM({ apiKey: key, baseUrl: srv.url, fetch, retryDelayMs: 10, onError: () => {}, ...more });

/** sameIds asserts that every attempt carried the same message ids. */
function sameIds(f) {
  const first = messageIds(f.requests[0]);
  for (const r of f.requests) assert.deepEqual(messageIds(r), first, "a retry resends the same message ids");
}

test("a network error before the server: retried with the same message id, applied once", async () => {
  const f = countingFetch({ before: (_, n) => { if (n === 0) throw networkError(); } });
  const email = `${unique("net")}@example.com`;
  assert.deepEqual(await client(f).identify({ email, status: "trialing" }), { duplicate: false });
  assert.equal(f.requests.length, 2);
  sameIds(f);
  assert.equal((await srv.admin.customer(email)).timeline.length, 1);
});

test("a reply lost after the commit: the retry is answered as a duplicate, applied once", async () => {
  const f = countingFetch({ after: (_, n) => { if (n === 0) throw networkError(); } });
  const email = `${unique("lost")}@example.com`;
  assert.deepEqual(await client(f).identify({ email, status: "trialing" }), { duplicate: true });
  assert.equal(f.requests.length, 2);
  sameIds(f);
  assert.equal((await srv.admin.customer(email)).timeline.length, 1);
});

test("a 503 with Retry-After is retried no sooner than asked", async () => {
  const f = countingFetch({ before: (_, n) => (n === 0 ? problem(503, 1) : undefined) });
  const email = `${unique("503")}@example.com`;
  const t0 = Date.now();
  assert.deepEqual(await client(f).identify({ email }), { duplicate: false });
  assert.ok(Date.now() - t0 >= 1000, `waited ${Date.now() - t0} ms`);
  assert.equal(f.requests.length, 2);
  sameIds(f);
});

test("a 429 with Retry-After is retried", async () => {
  const f = countingFetch({ before: (_, n) => (n < 2 ? problem(429, 1) : undefined) });
  const email = `${unique("429")}@example.com`;
  const t0 = Date.now();
  assert.deepEqual(await client(f).identify({ email }), { duplicate: false });
  assert.ok(Date.now() - t0 >= 2000, `waited ${Date.now() - t0} ms`);
  assert.equal(f.requests.length, 3);
  sameIds(f);
});

test("a 5xx without a problem body (a proxy's 502 page) is retried", async () => {
  const f = countingFetch({ before: (_, n) => (n === 0 ? new Response("<html>Bad Gateway</html>", { status: 502 }) : undefined) });
  assert.deepEqual(await client(f).identify({ email: `${unique("502")}@example.com` }), { duplicate: false });
  assert.equal(f.requests.length, 2);
});

test("an attempt that times out counts as a network error and is retried", async () => {
  // The first attempt hangs until the SDK gives up on it.
  const hang = (init) => new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
  const f = countingFetch({ before: (_, n, init) => (n === 0 ? hang(init) : undefined) });
  const email = `${unique("slow")}@example.com`;
  const t0 = Date.now();
  assert.deepEqual(await client(f, { timeoutMs: 200 }).identify({ email }), { duplicate: false });
  assert.ok(Date.now() - t0 >= 200);
  assert.equal(f.requests.length, 2);
  sameIds(f);
});

test("a batch whose reply was lost is resent whole: same ids, every item applied once", async () => {
  const f = countingFetch({ after: (_, n) => (n === 0 ? problem(503) : undefined) });
  const crm = client(f);
  const emails = Array.from({ length: 20 }, (_, i) => `${unique(`b${i}`)}@example.com`);
  const results = await Promise.all(emails.map((email) => crm.identify({ email, status: "paid" })));
  assert.deepEqual(results, emails.map(() => ({ duplicate: true })));
  assert.equal(f.requests.length, 2);
  assert.equal(f.requests[0].path, "/v1/batch");
  sameIds(f);
  for (const email of emails) assert.equal((await srv.admin.customer(email)).timeline.length, 1, email);
});

test("one customer, one message per failure mode: each change is in the timeline exactly once", async () => {
  const email = `${unique("once")}@example.com`;
  const failures = [
    { before: (_, n) => { if (n === 0) throw networkError(); } },
    { after: (_, n) => { if (n === 0) throw networkError(); } },
    { before: (_, n) => (n === 0 ? problem(503, 1) : undefined) },
    { after: (_, n) => (n === 0 ? problem(503) : undefined) },
    { before: (_, n) => (n === 0 ? problem(429, 1) : undefined) },
  ];
  const changes = [
    { status: "trialing" },
    { status: "paid" },
    { params: { plan: "pro" } },
    { status: "churned" },
    { params: { plan: "team" } },
  ];
  for (const [i, failure] of failures.entries()) {
    const f = countingFetch(failure);
    await client(f).identify({ email, ...changes[i] });
    assert.equal(f.requests.length, 2, `message ${i} was retried once`);
    sameIds(f);
  }
  const c = await srv.admin.customer(email);
  assert.deepEqual(
    c.timeline.map((e) => e.kind).reverse(),
    ["joined", "status", "params", "status", "params"],
  );
  assert.equal(c.projects[0].status, "churned");
  assert.deepEqual(c.projects[0].params, { plan: "team" });
});

test("other 4xx answers are never retried", async () => {
  for (const status of [400, 401, 403, 404, 409, 413, 422]) {
    const f = countingFetch({ before: () => new Response(JSON.stringify({ status, detail: `no (${status})`, field: "body" }), { status }) });
    const err = await client(f).identify({ email: "x@example.com" }).catch((e) => e);
    assert.ok(err instanceof TinyCRMError);
    assert.equal(err.status, status);
    assert.equal(err.message, `body: no (${status})`);
    assert.equal(f.requests.length, 1, `${status} was not retried`);
  }
});

test("after maxRetries the call rejects with the last error", async () => {
  const f = countingFetch({ before: () => { throw networkError(); } });
  const err = await client(f, { maxRetries: 3 }).identify({ email: "x@example.com" }).catch((e) => e);
  assert.ok(err instanceof TinyCRMError);
  assert.equal(err.status, 0);
  assert.equal(err.retryable, true);
  assert.match(err.message, /could not reach .*fetch failed \(ECONNRESET\)/);
  assert.equal(f.requests.length, 4);
});

test("a Retry-After longer than maxRetryDelayMs fails at once instead of hanging", async () => {
  const f = countingFetch({ before: () => problem(503, 120) });
  const t0 = Date.now();
  const err = await client(f, { maxRetryDelayMs: 5_000 }).identify({ email: "x@example.com" }).catch((e) => e);
  assert.ok(Date.now() - t0 < 1_000);
  assert.equal(err.status, 503);
  assert.equal(err.retryAfter, 120);
  assert.equal(f.requests.length, 1);
});

test("a ping is retried too", async () => {
  const f = countingFetch({ before: (_, n) => { if (n === 0) throw networkError(); } });
  await client(f).ping(`${unique("ping")}@example.com`);
  assert.deepEqual(f.requests.map((r) => r.path), ["/v1/ping", "/v1/ping"]);
});

test("batch items the server could not store (no field) are sent again with their ids", async () => {
  const f = countingFetch({
    after: (req, n) =>
      n === 0
        ? new Response(JSON.stringify({ accepted: req.body.items.length - 1, duplicates: 0, rejected: [{ index: 1, error: "could not be stored; retry it" }] }), { status: 200 })
        : undefined,
  });
  const crm = client(f);
  const emails = [0, 1, 2].map((i) => `${unique(`store${i}`)}@example.com`);
  const results = await Promise.all(emails.map((email) => crm.identify({ email })));
  // The reply above was a lie: item 1 did land, so its resend is a duplicate.
  assert.deepEqual(results, [{ duplicate: false }, { duplicate: true }, { duplicate: false }]);
  assert.deepEqual(f.requests.map((r) => r.path), ["/v1/batch", "/v1/identify"]);
  assert.equal(f.requests[1].body.message_id, f.requests[0].body.items[1].message_id);
});
