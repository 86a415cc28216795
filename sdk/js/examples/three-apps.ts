// The seed scenario: three products, each with its own project key, tell
// TinyCRM about the same person. TinyCRM merges them by email into one
// customer, Alice Chen, with three badges.
//
//   export TINYCRM_URL=http://127.0.0.1:7070
//   export TINYCRM_KEY_A=tcrm_pk_…  TINYCRM_KEY_B=tcrm_pk_…  TINYCRM_KEY_C=tcrm_pk_…
//   node examples/three-apps.mjs   (this .ts twin is type-checked by npm test)
//   tinycrm customer alice@example.com
import { TinyCRM } from "tinycrm-sdk";

// App A, a newsletter tool.
const appA = new TinyCRM({ apiKey: process.env.TINYCRM_KEY_A });
// App B, a link-in-bio tool.
const appB = new TinyCRM({ apiKey: process.env.TINYCRM_KEY_B });
// App C, an analytics dashboard.
const appC = new TinyCRM(process.env.TINYCRM_KEY_C);

await appA.identify({
  email: "alice@example.com",
  name: "Alice Chen",
  status: "paid",
  params: { plan: "pro", mrr: 9 },
});
await appB.identify({
  email: "Alice@Example.com ",
  status: "free",
  params: { source: "producthunt", referral: "friend42" },
});
await appC.identify({
  email: "alice@example.com",
  status: "trialing",
  params: { trial_ends: "2026-03-29", plan: "starter" },
});
await appA.ping("alice@example.com");

console.log("Alice is in TinyCRM: run `tinycrm customer alice@example.com`");
