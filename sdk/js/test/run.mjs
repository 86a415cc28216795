// The test command's global setup: one tinycrmd for every test file, shared
// through TINYCRM_TEST_URL and TINYCRM_TEST_ADMIN_TOKEN, then node --test.
// Each file makes its own projects and emails, so files run in parallel.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startDaemon } from "./daemon.mjs";

const dir = path.dirname(fileURLToPath(import.meta.url));
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : fs.readdirSync(dir).filter((f) => f.endsWith(".test.mjs")).sort().map((f) => path.join(dir, f));

const started = Date.now();
const daemon = await startDaemon();
console.log(`# tinycrmd ready at ${daemon.url} in ${Date.now() - started} ms (log: ${daemon.logPath})`);

const child = spawn(process.execPath, ["--test", ...files], {
  stdio: "inherit",
  env: { ...process.env, TINYCRM_TEST_URL: daemon.url, TINYCRM_TEST_ADMIN_TOKEN: daemon.token },
});
const forward = (sig) => child.kill(sig);
process.on("SIGINT", forward);
process.on("SIGTERM", forward);
const code = await new Promise((resolve) => child.once("exit", (c, sig) => resolve(c ?? (sig ? 1 : 0))));
if (code !== 0) console.error(`# tinycrmd log: ${daemon.logPath} (set TINYCRM_KEEP_TMP=1 to keep it)`);
await daemon.stop();
process.exit(code);
