// The official Segment Node library, unmodified, against a real tinycrmd:
// what SPEC §8 promises to apps already instrumented with Segment.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Analytics } from "@segment/analytics-node";
import { admin, startDaemon } from "./daemon.mjs";

let daemon;
let api;

before(async () => {
  daemon = await startDaemon();
  api = admin(daemon);
});

after(async () => {
  await daemon?.stop();
});

// connect configures the library as an app would to send to TinyCRM.
// analytics-node joins host and path with new URL(path, host), so an
// absolute path replaces any path in host: the /segment prefix goes in path.
function connect(writeKey, settings = {}) {
  const analytics = new Analytics({ writeKey, host: daemon.url, path: "/segment/v1/batch", ...settings });
  const errors = [];
  const requests = [];
  analytics.on("error", (err) => errors.push(err));
  analytics.on("http_response", (res) => requests.push({ status: res.status, body: JSON.parse(res.body) }));
  return { analytics, errors, requests };
}

// delivered runs one library call and resolves when its batch was answered.
function delivered(call) {
  return new Promise((resolve, reject) => call((err, ctx) => (err ? reject(err) : resolve(ctx))));
}

const ago = (minutes) => new Date(Date.now() - minutes * 60_000);
const sameTime = (got, want, what) => assert.equal(new Date(got).getTime(), want.getTime(), `${what}: ${got} vs ${want.toISOString()}`);

test("identify, then track and page by userId, one call per request (flushAt: 1)", async () => {
  const { key } = await api.createProject("Segment App");
  const { analytics, errors, requests } = connect(key, { flushAt: 1 });
  const signup = ago(60);
  const signedIn = ago(30);
  const viewed = ago(10);

  // flushAt: 1 sends every call at once and in parallel, so the identify
  // that teaches the userId is awaited before the calls that rely on it.
  await delivered((cb) =>
    analytics.identify(
      {
        userId: "user-1",
        traits: { email: "Alice@Example.com", name: "Alice Chen", plan: "pro", status: "paid", "Signup Source": "ads" },
        timestamp: signup,
      },
      cb,
    ),
  );
  analytics.track({ userId: "user-1", event: "Signed In", properties: { method: "password" }, timestamp: signedIn });
  analytics.page({ userId: "user-1", category: "Docs", name: "Pricing", timestamp: viewed });
  await analytics.closeAndFlush({ timeout: 30_000 });

  assert.deepEqual(errors, []);
  assert.deepEqual(requests.map((r) => r.status), [200, 200, 200]);
  for (const r of requests) {
    assert.equal(r.body.batch.length, 1);
  }

  const c = await api.customer("alice@example.com");
  assert.ok(c, "the customer exists");
  assert.equal(c.name, "Alice Chen");
  assert.equal(c.projects.length, 1);
  assert.equal(c.projects[0].status, "paid");
  assert.deepEqual(c.projects[0].params, { plan: "pro", Signup_Source: "ads" });
  sameTime(c.first_seen, signup, "first_seen");
  // track and page moved last_seen and nothing else.
  sameTime(c.last_seen, viewed, "last_seen");
  sameTime(c.projects[0].last_seen, viewed, "membership last_seen");
  assert.ok(c.timeline.length > 0);
  for (const e of c.timeline) sameTime(e.at, signup, `timeline ${e.kind} (only the identify made events)`);
});

test("identify, track and page in one batch resolve in order (default flushAt)", async () => {
  const { key } = await api.createProject("Segment Batch App");
  const { analytics, errors, requests } = connect(key, { flushInterval: 60_000 });
  const signup = ago(20);
  const clicked = ago(5);

  analytics.identify({ userId: "42", traits: { email: "bob@example.com", firstName: "Bob", lastName: "Builder", createdAt: "2026-01-02" }, timestamp: signup });
  analytics.track({ userId: "42", event: "Clicked", timestamp: clicked });
  analytics.page({ userId: "42", name: "Home", timestamp: ago(15) });
  await analytics.closeAndFlush({ timeout: 30_000 });

  assert.deepEqual(errors, []);
  assert.equal(requests.length, 1, "one batch request");
  assert.equal(requests[0].status, 200);
  assert.deepEqual(requests[0].body.batch.map((e) => e.type), ["identify", "track", "page"]);

  const c = await api.customer("bob@example.com");
  assert.equal(c.name, "Bob Builder");
  assert.deepEqual(c.projects[0].params, { createdAt: "2026-01-02" });
  sameTime(c.first_seen, signup, "first_seen");
  sameTime(c.last_seen, clicked, "last_seen");
});

test("host http://HOST:7070/segment with the library's default path works too (SPEC §8)", async () => {
  const { key } = await api.createProject("Segment Host App");
  // No path option: the library posts to new URL("/v1/batch", host), which
  // drops /segment; tinycrmd's /v1/batch recognises Segment's batch body.
  const analytics = new Analytics({ writeKey: key, host: `${daemon.url}/segment`, flushInterval: 60_000 });
  const errors = [];
  analytics.on("error", (err) => errors.push(err));
  analytics.identify({ userId: "7", traits: { email: "host@example.com", name: "Hosta Segment", plan: "pro" } });
  await analytics.closeAndFlush({ timeout: 30_000 });
  assert.deepEqual(errors, []);
  const c = await api.customer("host@example.com");
  assert.equal(c.name, "Hosta Segment");
  assert.deepEqual(c.projects[0].params, { plan: "pro" });
});

test("a call with only an anonymousId is reported, not guessed", async () => {
  const { key } = await api.createProject("Segment Anonymous App");
  const { analytics, errors, requests } = connect(key, { flushAt: 1, maxRetries: 0 });
  const before = await api.stats();

  analytics.track({ anonymousId: "anon-1", event: "Viewed" });
  analytics.identify({ anonymousId: "anon-1", traits: { plan: "free" } });
  await analytics.closeAndFlush({ timeout: 30_000 });

  // The batch endpoint commits what it can and reports the rest by index
  // with a 200, so the library neither retries nor fails the calls.
  assert.deepEqual(requests.map((r) => r.status), [200, 200]);
  assert.deepEqual(errors, []);
  assert.deepEqual(await api.stats(), before, "nothing was written");

  const res = await fetch(`${daemon.url}/segment/v1/batch`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from(`${key}:`).toString("base64")}` },
    body: JSON.stringify({ batch: [{ type: "track", anonymousId: "anon-1", event: "Viewed" }] }),
  });
  const body = await res.json();
  assert.equal(res.status, 200);
  assert.equal(body.success, true);
  assert.equal(body.accepted, 0);
  assert.deepEqual(body.rejected.map((r) => [r.index, r.field]), [[0, "userId"]]);
});
