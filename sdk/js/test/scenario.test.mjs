// SPEC §10, run as a user would: the README's example script against a real
// daemon, then the admin API shows one Alice in three projects.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { useServer } from "./helpers.mjs";

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const srv = useServer();

test("the three-app example makes one Alice Chen with three badges", async () => {
  const a = await srv.admin.createProject("App A");
  const b = await srv.admin.createProject("App B");
  const c = await srv.admin.createProject("App C");

  const { stdout } = await promisify(execFile)(process.execPath, ["examples/three-apps.mjs"], {
    cwd: pkg,
    env: { ...process.env, TINYCRM_URL: srv.url, TINYCRM_KEY_A: a.key, TINYCRM_KEY_B: b.key, TINYCRM_KEY_C: c.key },
  });
  assert.match(stdout, /Alice is in TinyCRM/);

  const alice = await srv.admin.customer("alice@example.com");
  assert.ok(alice, "alice@example.com exists");
  assert.equal(alice.email, "alice@example.com");
  assert.equal(alice.name, "Alice Chen");
  assert.equal(alice.project_count, 3);
  assert.equal(alice.mrr_total, 9);
  const bySlug = Object.fromEntries(alice.projects.map((p) => [p.slug, p]));
  assert.deepEqual(Object.keys(bySlug).sort(), ["app-a", "app-b", "app-c"]);
  assert.equal(bySlug["app-a"].status, "paid");
  assert.deepEqual(bySlug["app-a"].params, { plan: "pro", mrr: 9 });
  assert.equal(bySlug["app-b"].status, "free");
  assert.deepEqual(bySlug["app-b"].params, { source: "producthunt", referral: "friend42" });
  assert.equal(bySlug["app-c"].status, "trialing");
  assert.deepEqual(bySlug["app-c"].params, { trial_ends: "2026-03-29", plan: "starter" });
  assert.ok(Date.now() - Date.parse(alice.last_seen) < 60_000, `last active just now, not ${alice.last_seen}`);
});

test("the README shows examples/three-apps.mjs exactly", async () => {
  const fs = await import("node:fs");
  const readme = fs.readFileSync(path.join(pkg, "README.md"), "utf8");
  const example = fs.readFileSync(path.join(pkg, "examples/three-apps.mjs"), "utf8");
  const m = readme.match(/<!-- example:three-apps[^>]*-->\n```js\n([\s\S]*?)```/);
  assert.ok(m, "README has the example block");
  assert.equal(m[1], example);
});

test("examples/three-apps.ts (type-checked by npm test) is the same program as the .mjs that runs", async () => {
  const fs = await import("node:fs");
  const withoutRunLine = (s) => s.split("\n").filter((l) => !l.startsWith("//   node examples/")).join("\n");
  const mjs = fs.readFileSync(path.join(pkg, "examples/three-apps.mjs"), "utf8");
  const ts = fs.readFileSync(path.join(pkg, "examples/three-apps.ts"), "utf8");
  assert.equal(withoutRunLine(ts), withoutRunLine(mjs));
});
