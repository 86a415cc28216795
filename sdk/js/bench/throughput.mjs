// Throughput of un-awaited identifies through batching to a real tinycrmd.
//
//   npm run bench                      # builds and starts its own daemon
//   N=100000 npm run bench
//   TINYCRM_URL=… TINYCRM_KEY=tcrm_pk_… node bench/throughput.mjs   # an existing server
//
// Not a test: it prints a number and checks only that every call resolved.
import { TinyCRM } from "tinycrm-sdk";
import { admin, startDaemon } from "../test/daemon.mjs";

const n = Number(process.env.N ?? process.argv[2] ?? 20_000);
let daemon;
let url = process.env.TINYCRM_URL;
let key = process.env.TINYCRM_KEY;
if (!url || !key) {
  daemon = await startDaemon();
  url = daemon.url;
  key = (await admin(daemon).createProject(`Bench ${Date.now()}`)).key;
}

try {
  let requests = 0;
  const crm = new TinyCRM({
    apiKey: key,
    baseUrl: url,
    fetch: (u, init) => {
      requests++;
      return fetch(u, init);
    },
  });
  // Warm up the connection and the server's caches.
  await crm.identify({ email: `warmup-${Date.now()}@bench.example` });
  requests = 0;

  const run = Date.now().toString(36);
  const plans = ["free", "starter", "pro", "team"];
  const t0 = performance.now();
  const calls = [];
  for (let i = 0; i < n; i++) {
    calls.push(
      crm.identify({
        email: `user${i}-${run}@bench.example`,
        name: `User ${i}`,
        status: i % 3 === 0 ? "paid" : "trialing",
        params: { plan: plans[i % plans.length], mrr: (i % 5) * 9, seats: i % 7 },
      }),
    );
  }
  const results = await Promise.allSettled(calls);
  const seconds = (performance.now() - t0) / 1000;
  const failed = results.filter((r) => r.status === "rejected");
  if (failed.length > 0) throw new Error(`${failed.length} of ${n} calls failed; first: ${failed[0].reason.message}`);
  console.log(
    `${n} identifies in ${seconds.toFixed(2)} s over ${requests} requests: ${Math.round(n / seconds)} identifies/s (node ${process.version})`,
  );
} finally {
  await daemon?.stop();
}
