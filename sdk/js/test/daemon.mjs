// A real tinycrmd for the tests and the benchmark: built from this
// repository, started on a free port with a fresh managed-PostgreSQL data
// dir, stopped with SIGTERM.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * startDaemon builds (unless TINYCRMD names a binary) and starts tinycrmd,
 * waits for /readyz, and returns its URL, admin token, admin helpers and stop.
 */
export async function startDaemon({ readyTimeoutMs = 120_000 } = {}) {
  // As root the managed cluster runs as an unprivileged user, who must be
  // able to reach the data dir: mkdtemp makes it 0700.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tinycrm-js-"));
  fs.chmodSync(tmp, 0o755);
  let bin = process.env.TINYCRMD;
  if (!bin) {
    bin = path.join(tmp, "tinycrmd");
    try {
      execFileSync("go", ["build", "-o", bin, "./cmd/tinycrmd"], { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"] });
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new Error(`go build ./cmd/tinycrmd failed in ${repoRoot} (is Go on PATH?): ${err.message}`);
    }
  }
  const dataDir = path.join(tmp, "data");
  const logPath = path.join(tmp, "tinycrmd.log");
  const log = fs.openSync(logPath, "a");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ["--data-dir", dataDir, "--listen", `127.0.0.1:${port}`, "--rate-limit", "0", "--log-format", "json"], {
    stdio: ["ignore", log, log],
  });
  fs.closeSync(log);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let gone = false;
  void exited.then(() => (gone = true));
  const logTail = () => fs.readFileSync(logPath, "utf8").split("\n").slice(-30).join("\n");

  const stop = async () => {
    if (!gone) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    }
    if (!process.env.TINYCRM_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (gone) throw new Error(`tinycrmd exited during start:\n${logTail()}`);
      try {
        const res = await fetch(`${url}/readyz`);
        if (res.status === 200) break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`tinycrmd not ready within ${readyTimeoutMs} ms:\n${logTail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const token = fs.readFileSync(path.join(dataDir, "admin.token"), "utf8").trim();
  return { url, token, logPath, stop };
}

/** admin wraps the admin API of a daemon at url with token. */
export function admin({ url, token }) {
  const call = async (method, p, body) => {
    const res = await fetch(url + p, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    call,
    /** createProject makes a project and returns { slug, key, ... }. */
    async createProject(name) {
      const res = await call("POST", "/v1/projects", { name });
      if (res.status !== 201) throw new Error(`create project ${name}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    /** stats returns the workspace's counts. */
    async stats() {
      const res = await call("GET", "/v1/stats");
      if (res.status !== 200) throw new Error(`stats: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    /** customer returns the customer with their timeline, or null. */
    async customer(email) {
      const res = await call("GET", `/v1/customers/${encodeURIComponent(email)}`);
      if (res.status === 404) return null;
      if (res.status !== 200) throw new Error(`get customer ${email}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
