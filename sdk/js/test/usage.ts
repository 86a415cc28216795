// Compiled, never run (npm run typecheck): the seed's usage and the public
// types must type-check in a strict TypeScript project on Node's types alone
// (no DOM lib), against the published declarations.
import { TinyCRM, TinyCRMError, type Fetch, type IdentifyResult, type TinyCRMOptions } from "tinycrm-sdk";

const crm = new TinyCRM({ apiKey: process.env.TINYCRM_KEY_A });
const byKey = new TinyCRM(process.env.TINYCRM_KEY_B);
const tuned = new TinyCRM("tcrm_pk_x", { baseUrl: "http://127.0.0.1:7070", maxRetries: 3, timeoutMs: 5_000 });

const wrapped: Fetch = (url, init) => fetch(url, init);
const options: TinyCRMOptions = {
  apiKey: "tcrm_pk_x",
  fetch: globalThis.fetch,
  flushAt: 500,
  flushIntervalMs: 100,
  onError: (err) => console.error(err.message),
};
new TinyCRM(options);
new TinyCRM({ apiKey: "tcrm_pk_x", fetch: wrapped });

export async function signup(email: string, name: string): Promise<boolean> {
  const res: IdentifyResult = await crm.identify({ email, name, status: "trialing", params: { plan: "starter", mrr: 0 } });
  await byKey.identify({ email, params: { trial_ends: null }, timestamp: new Date(), messageId: "signup-1" });
  await tuned.ping(email);
  await tuned.ping(email, { timestamp: Date.now() });
  await crm.flush();
  try {
    await crm.identify({ email: "nope" });
  } catch (err) {
    if (err instanceof TinyCRMError) {
      const s: number = err.status;
      const f: string | undefined = err.field;
      const d: string = err.detail;
      const r: boolean = err.retryable;
      void [s, f, d, r];
    }
  }
  // @ts-expect-error an unknown top-level field is a type error, not a silent drop
  await crm.identify({ email, plan: "pro" });
  return res.duplicate || res.suppressed === true;
}

// Optional fields take `undefined` too, as values read from env or a
// database row are typed (exactOptionalPropertyTypes is on here).
const maybe: string | undefined = process.env.TINYCRM_URL;
new TinyCRM({ apiKey: process.env.TINYCRM_KEY_C, baseUrl: maybe, timeoutMs: undefined });
export const partial = (row: { email: string; name?: string | undefined }) => crm.identify({ email: row.email, name: row.name });
