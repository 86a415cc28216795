// Shared by the test files: the daemon run.mjs started (or, when a file is
// run alone with node --test, one of its own) and small helpers.
import { after, before } from "node:test";
import { admin, startDaemon } from "./daemon.mjs";

/**
 * useServer registers hooks that provide the daemon; the returned object is
 * filled in before the first test: { url, token, admin }.
 */
export function useServer() {
  const srv = {};
  let own;
  before(async () => {
    if (process.env.TINYCRM_TEST_URL) {
      srv.url = process.env.TINYCRM_TEST_URL;
      srv.token = process.env.TINYCRM_TEST_ADMIN_TOKEN;
    } else {
      own = await startDaemon();
      srv.url = own.url;
      srv.token = own.token;
    }
    srv.admin = admin(srv);
  });
  after(async () => {
    await own?.stop();
  });
  return srv;
}

/** unique makes names and emails that no other test or file uses. */
export function unique(prefix) {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * countingFetch wraps the real fetch and records every request: its path
 * and its parsed body. before(req, n, init) runs ahead of the server: it may
 * return a Response to answer instead of it, throw to simulate a network
 * error, or return undefined to pass the request on. after(req, n, res) runs
 * once the server answered: it may throw (the reply was lost) or return a
 * Response to answer instead.
 */
export function countingFetch({ before: beforeHook, after: afterHook } = {}) {
  const requests = [];
  let clock = 0;
  const f = async (url, init) => {
    // started/ended order requests in time: one request ended before another
    // started if its ended is smaller than the other's started.
    const req = { path: new URL(url).pathname, body: JSON.parse(init.body), started: clock++ };
    requests.push(req);
    const n = requests.length - 1;
    try {
      const early = await beforeHook?.(req, n, init);
      if (early) return early;
      const res = await fetch(url, init);
      const late = await afterHook?.(req, n, res);
      return late ?? res;
    } finally {
      req.ended = clock++;
    }
  };
  f.requests = requests;
  return f;
}

/** messageIds lists the message ids a recorded request carried. */
export function messageIds(req) {
  return req.body.items ? req.body.items.map((i) => i.message_id) : [req.body.message_id];
}
