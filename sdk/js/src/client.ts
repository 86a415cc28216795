import { TinyCRMError } from "./error.js";
import { messageId } from "./id.js";
import { backoffMs, retryAfterSeconds, sleep } from "./retry.js";

/** The part of a fetch init the SDK passes. */
export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/** The part of a fetch Response the SDK reads. */
export interface FetchResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** A fetch function: the platform's own, or a wrapper around it. */
export type Fetch = (url: string, init: FetchInit) => Promise<FetchResponse>;

export interface TinyCRMOptions {
  /**
   * The project's key, `tcrm_pk_…` (write-only). Typed to take
   * `process.env.X` as is; a missing key throws in the constructor.
   */
  apiKey: string | undefined;
  /** Where tinycrmd listens. Default: env `TINYCRM_URL`, then `http://127.0.0.1:7070`. */
  baseUrl?: string | undefined;
  /** The fetch to use. Default: the global `fetch`. */
  fetch?: Fetch | undefined;
  /** Retries after the first attempt, for network errors, 5xx and 429. Default 4 (as the Go client). */
  maxRetries?: number | undefined;
  /** The first retry waits up to this long, each next one up to twice as long (plus jitter). Default 200. */
  retryDelayMs?: number | undefined;
  /**
   * The longest wait between attempts. A server that asks (Retry-After) for
   * a longer wait fails the call at once instead. Default 30000.
   */
  maxRetryDelayMs?: number | undefined;
  /** How long one attempt may take before it counts as a network error. Default 15000. */
  timeoutMs?: number | undefined;
  /** Most calls in one batch request, 1 to 1000; a full batch is sent at once. Default 1000. */
  flushAt?: number | undefined;
  /**
   * How long a call waits in the queue for company before it is sent.
   * Default 0: calls made in the same tick go together.
   */
  flushIntervalMs?: number | undefined;
  /** Most requests in flight at once. Default 4. */
  concurrency?: number | undefined;
  /** Most calls waiting to be sent; more are refused at once. Default 100000. */
  maxQueueSize?: number | undefined;
  /**
   * Told about every call that fails, whether or not its promise is
   * awaited, so a call nobody awaits never becomes an unhandled rejection.
   * Default: one `console.warn` line per failed call.
   */
  onError?: ((error: Error) => void) | undefined;
}

export interface IdentifyInput {
  /** Any case and surrounding spaces; the server normalizes it and merges on it. */
  email: string;
  /** Replaces the stored name when non-empty. */
  name?: string | undefined;
  /** `[a-z0-9_-]{1,32}`; `paid`, `trialing`, `free` and `churned` feed the insights. */
  status?: string | undefined;
  /** Merged shallowly into this project's params; a key set to `null` is deleted. */
  params?: Record<string, unknown> | undefined;
  /** When it happened, if not now; an older call never overwrites newer state. */
  timestamp?: Date | string | number | undefined;
  /** The idempotency key; default a fresh random id per call. */
  messageId?: string | undefined;
}

export interface IdentifyResult {
  /** The server had already applied this message id: nothing changed. */
  duplicate: boolean;
  /** The email was forgotten with suppress: the call was dropped. */
  suppressed?: boolean | undefined;
}

export interface PingOptions {
  /** When the activity happened, if not now. */
  timestamp?: Date | string | number | undefined;
}

/** Server limits of a batch request (SPEC §3). */
const MAX_BATCH_ITEMS = 1000;
const MAX_BATCH_BYTES = 4 << 20;
const BATCH_OVERHEAD = '{"items":[]}'.length;
/** How far past the queue's head one batch looks for calls it may take. */
const SCAN_LIMIT = 10 * MAX_BATCH_ITEMS;
const DEFAULT_URL = "http://127.0.0.1:7070";
/** setTimeout fires at once for longer delays. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Call {
  kind: "identify" | "ping";
  body: string;
  bytes: number;
  /** Calls with the same key (the email, roughly normalized) go out in order. */
  key: string;
  resolve(value: IdentifyResult | undefined): void;
  reject(error: Error): void;
}

interface BatchReply {
  accepted?: number;
  duplicates?: number;
  suppressed?: number;
  rejected?: { index: number; field?: string; error: string }[];
}

/** Calls that may succeed if sent again, and why they failed this time. */
type Leftover = { calls: Call[]; error: TinyCRMError } | undefined;

/**
 * TinyCRM sends one project's identify and ping calls to tinycrmd.
 *
 * Every call returns a promise. Calls made without awaiting each other are
 * queued and sent together as one `POST /v1/batch`; each promise still
 * settles on its own item's outcome. Every identify carries a message id, so
 * retries (network errors, 5xx and 429, with exponential backoff and jitter,
 * honouring Retry-After) are applied once. Calls for the same email reach
 * the server in the order they were made.
 */
export class TinyCRM {
  /** The server this client sends to, without a trailing slash. */
  readonly baseUrl: string;

  readonly #apiKey: string;
  readonly #fetch: Fetch;
  readonly #maxRetries: number;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #timeoutMs: number;
  readonly #flushAt: number;
  readonly #flushIntervalMs: number;
  readonly #concurrency: number;
  readonly #maxQueueSize: number;
  readonly #onError: (error: Error) => void;

  /** Waiting calls from #head on; taken ones are holes until compaction. */
  #queue: (Call | undefined)[] = [];
  #head = 0;
  #queued = 0;
  #queuedBytes = 0;
  /** Settle-promises of every call not yet settled, for flush. */
  readonly #pending = new Set<Promise<void>>();
  /** Keys with a request in flight: their later calls wait. */
  readonly #busy = new Map<string, number>();
  #inflight = 0;
  /** Partial batches may go now (the flush interval passed, or flush was called). */
  #due = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(apiKey: string | undefined, options?: Omit<TinyCRMOptions, "apiKey">);
  constructor(options: TinyCRMOptions);
  constructor(keyOrOptions: string | undefined | TinyCRMOptions, more?: Omit<TinyCRMOptions, "apiKey">) {
    const o: Partial<TinyCRMOptions> =
      keyOrOptions === undefined || typeof keyOrOptions === "string"
        ? { ...more, apiKey: keyOrOptions }
        : { ...keyOrOptions };
    if (typeof o.apiKey !== "string" || o.apiKey.trim() === "") {
      throw new TypeError(
        "TinyCRM: apiKey is required: new TinyCRM({ apiKey: process.env.TINYCRM_KEY }) with the project key (tcrm_pk_…) that `tinycrm projects create` printed",
      );
    }
    if (o.apiKey.startsWith("tcrm_at_")) {
      throw new TypeError("TinyCRM: that is an admin token (tcrm_at_…); apps send with a project key (tcrm_pk_…)");
    }
    this.#apiKey = o.apiKey.trim();

    const base = o.baseUrl ?? envVar("TINYCRM_URL") ?? DEFAULT_URL;
    try {
      new URL(base);
    } catch {
      throw new TypeError(`TinyCRM: baseUrl ${JSON.stringify(base)} is not a URL like ${DEFAULT_URL}`);
    }
    this.baseUrl = base.replace(/\/+$/, "");

    const f = o.fetch ?? (globalThis as { fetch?: Fetch }).fetch;
    if (typeof f !== "function") {
      throw new TypeError("TinyCRM: this runtime has no global fetch (Node 18+ has it); pass { fetch }");
    }
    // Called unbound, as browsers require of window.fetch.
    this.#fetch = (url, init) => f(url, init);

    this.#maxRetries = count(o.maxRetries, 4, 0, Infinity, "maxRetries");
    this.#retryDelayMs = count(o.retryDelayMs, 200, 0, MAX_TIMER_MS, "retryDelayMs");
    this.#maxRetryDelayMs = count(o.maxRetryDelayMs, 30_000, 0, MAX_TIMER_MS, "maxRetryDelayMs");
    this.#timeoutMs = count(o.timeoutMs, 15_000, 1, MAX_TIMER_MS, "timeoutMs");
    this.#flushAt = count(o.flushAt, MAX_BATCH_ITEMS, 1, MAX_BATCH_ITEMS, "flushAt");
    this.#flushIntervalMs = count(o.flushIntervalMs, 0, 0, MAX_TIMER_MS, "flushIntervalMs");
    this.#concurrency = count(o.concurrency, 4, 1, Infinity, "concurrency");
    this.#maxQueueSize = count(o.maxQueueSize, 100_000, 1, Infinity, "maxQueueSize");
    this.#onError = o.onError ?? warn;
  }

  /**
   * identify tells TinyCRM about a customer of this project. It resolves once
   * the server has committed the call, to `{ duplicate }` (and
   * `suppressed: true` for a forgotten email), and rejects with a
   * TinyCRMError naming the field the server refused.
   */
  identify(input: IdentifyInput): Promise<IdentifyResult> {
    let body: string;
    try {
      body = JSON.stringify(identifyItem(input));
    } catch (err) {
      return this.#refuse(err);
    }
    return this.#enqueue("identify", body, input.email) as Promise<IdentifyResult>;
  }

  /**
   * ping records activity: it moves last_seen of this person in this project.
   * It creates nobody and succeeds silently for an unknown email.
   */
  ping(email: string, options?: PingOptions): Promise<void> {
    let body: string;
    try {
      const item: Record<string, unknown> = { email };
      if (options?.timestamp !== undefined) item.timestamp = isoTime(options.timestamp);
      body = JSON.stringify(item);
    } catch (err) {
      return this.#refuse(err);
    }
    return this.#enqueue("ping", body, email) as Promise<void>;
  }

  /**
   * flush sends everything queued now and resolves when each of those calls
   * has settled (each call's own promise says how). It never rejects.
   */
  async flush(): Promise<void> {
    const waiting = [...this.#pending];
    if (this.#queued > 0) {
      this.#due = true;
      this.#pump();
    }
    await Promise.all(waiting);
  }

  #enqueue(kind: Call["kind"], body: string, email: unknown): Promise<IdentifyResult | undefined> {
    if (this.#queued >= this.#maxQueueSize) {
      return this.#refuse(
        new TinyCRMError({
          status: 0,
          detail: `the send queue is full (${this.#queued} calls waiting): is ${this.baseUrl} up?`,
        }),
      );
    }
    let call!: Call;
    const promise = new Promise<IdentifyResult | undefined>((resolve, reject) => {
      call = { kind, body, bytes: utf8Length(body), key: emailKey(email), resolve, reject };
    });
    this.#track(promise);
    this.#queue.push(call);
    this.#queued++;
    this.#queuedBytes += call.bytes;
    if (this.#due || this.#queued >= this.#flushAt || this.#queuedBytes >= MAX_BATCH_BYTES) {
      this.#pump();
    } else {
      this.#arm();
    }
    return promise;
  }

  /** A call refused before it was queued. */
  #refuse<T>(err: unknown): Promise<T> {
    const promise = Promise.reject(err instanceof Error ? err : new TypeError(String(err)));
    this.#track(promise);
    return promise;
  }

  /**
   * track lets flush wait for promise and hands its failure to onError,
   * which also keeps an un-awaited failure from being an unhandled rejection.
   */
  #track(promise: Promise<unknown>): void {
    const settled = promise.then(
      () => undefined,
      (err: Error) => {
        try {
          this.#onError(err);
        } catch {
          // A throwing handler must not break the queue.
        }
      },
    );
    this.#pending.add(settled);
    void settled.then(() => this.#pending.delete(settled));
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#due) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#due = true;
      this.#pump();
    }, this.#flushIntervalMs);
  }

  /** pump starts as many requests as the queue and the concurrency allow. */
  #pump(): void {
    while (this.#inflight < this.#concurrency && this.#queued > 0) {
      if (!this.#due && this.#queued < this.#flushAt && this.#queuedBytes < MAX_BATCH_BYTES) break;
      const calls = this.#take();
      if (calls.length === 0) break; // the rest waits for earlier calls of the same people
      void this.#deliver(calls);
    }
    if (this.#queued === 0) {
      this.#due = false;
      if (this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
    } else {
      this.#arm();
    }
  }

  /**
   * take removes the next request's calls from the queue: identifies in
   * queue order up to the batch limits, or one ping. A call whose key has a
   * request in flight, or an earlier call left behind, stays, so one
   * person's calls are never in two requests at once.
   */
  #take(): Call[] {
    const q = this.#queue;
    const batch: Call[] = [];
    const held = new Set<string>();
    let bytes = BATCH_OVERHEAD;
    let scanned = 0;
    for (let i = this.#head; i < q.length && batch.length < this.#flushAt && scanned < SCAN_LIMIT; i++) {
      const c = q[i];
      if (c === undefined) continue;
      scanned++;
      if (held.has(c.key) || this.#busy.has(c.key)) {
        held.add(c.key);
        continue;
      }
      if (c.kind === "ping") {
        if (batch.length > 0) {
          held.add(c.key);
          continue;
        }
        this.#remove(i);
        batch.push(c);
        break;
      }
      if (batch.length > 0 && bytes + 1 + c.bytes > MAX_BATCH_BYTES) break;
      this.#remove(i);
      batch.push(c);
      bytes += c.bytes + 1;
    }
    while (this.#head < q.length && q[this.#head] === undefined) this.#head++;
    if (this.#head > 4096 && this.#head * 2 > q.length) {
      q.splice(0, this.#head);
      this.#head = 0;
    }
    return batch;
  }

  #remove(i: number): void {
    const c = this.#queue[i]!;
    this.#queue[i] = undefined;
    this.#queued--;
    this.#queuedBytes -= c.bytes;
  }

  async #deliver(calls: Call[]): Promise<void> {
    const keys = new Set(calls.map((c) => c.key));
    this.#inflight++;
    for (const k of keys) this.#busy.set(k, (this.#busy.get(k) ?? 0) + 1);
    try {
      await this.#send(calls);
    } catch (err) {
      // Only a bug gets here; never leave a promise hanging on it.
      for (const c of calls) c.reject(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.#inflight--;
      for (const k of keys) {
        const n = this.#busy.get(k)! - 1;
        if (n > 0) this.#busy.set(k, n);
        else this.#busy.delete(k);
      }
      this.#pump();
    }
  }

  /** send makes the attempts for calls until each has settled. */
  async #send(calls: Call[]): Promise<void> {
    let next = calls;
    for (let attempt = 0; ; attempt++) {
      const left = await this.#attempt(next);
      if (left === undefined) return;
      const wait = this.#retryWait(attempt, left.error);
      if (attempt >= this.#maxRetries || wait === undefined) {
        for (const c of left.calls) c.reject(left.error);
        return;
      }
      await sleep(wait);
      next = left.calls;
    }
  }

  /** retryWait is how long to wait before the next attempt, or undefined to give up. */
  #retryWait(attempt: number, error: TinyCRMError): number | undefined {
    const backoff = backoffMs(attempt, this.#retryDelayMs, this.#maxRetryDelayMs);
    if (error.retryAfter === undefined) return backoff;
    const asked = error.retryAfter * 1000;
    if (asked > this.#maxRetryDelayMs) return undefined;
    return Math.max(asked, backoff);
  }

  /** attempt sends calls once and settles those whose outcome is final. */
  async #attempt(calls: Call[]): Promise<Leftover> {
    const lone = calls.length === 1 ? calls[0]! : undefined;
    let reply: unknown;
    try {
      if (lone) {
        reply = await this.#post(lone.kind === "ping" ? "/v1/ping" : "/v1/identify", lone.body);
      } else {
        reply = await this.#post("/v1/batch", `{"items":[${calls.map((c) => c.body).join(",")}]}`);
      }
    } catch (err) {
      const e = err as TinyCRMError;
      if (e.retryable) return { calls, error: e };
      for (const c of calls) c.reject(e);
      return undefined;
    }
    if (lone) {
      if (lone.kind === "ping") {
        lone.resolve(undefined);
      } else {
        const r = reply as { duplicate?: unknown; suppressed?: unknown };
        lone.resolve(result(r.duplicate === true, r.suppressed === true));
      }
      return undefined;
    }
    return this.#settleBatch(calls, reply as BatchReply);
  }

  /**
   * settleBatch settles each call from a batch reply. The reply counts
   * duplicates and suppressed items but does not say which they were, so a
   * batch that mixes outcomes resolves its calls as {duplicate: false}.
   * Items rejected without a field could not be stored and are tried again.
   */
  #settleBatch(calls: Call[], reply: BatchReply): Leftover {
    if (reply === null || typeof reply !== "object" || !Array.isArray(reply.rejected)) {
      const err = new TinyCRMError({ status: 200, detail: "the server's batch reply was not understood" });
      for (const c of calls) c.reject(err);
      return undefined;
    }
    const rejected = new Map<number, { field?: string; error: string }>();
    for (const r of reply.rejected) rejected.set(r.index, r);
    const landed: Call[] = [];
    const again: Call[] = [];
    let againError: TinyCRMError | undefined;
    calls.forEach((c, i) => {
      const r = rejected.get(i);
      if (r === undefined) {
        landed.push(c);
      } else if (r.field) {
        const prefix = `${r.field}: `;
        const detail = r.error.startsWith(prefix) ? r.error.slice(prefix.length) : r.error;
        c.reject(new TinyCRMError({ status: 400, field: r.field, detail }));
      } else {
        again.push(c);
        againError = new TinyCRMError({ status: 500, detail: r.error });
      }
    });
    const accepted = reply.accepted ?? 0;
    const duplicates = reply.duplicates ?? 0;
    const suppressed = reply.suppressed ?? 0;
    const all = (n: number) => n > 0 && n === accepted + duplicates + suppressed;
    const outcome = all(duplicates) ? result(true, false) : all(suppressed) ? result(false, true) : result(false, false);
    for (const c of landed) c.resolve({ ...outcome });
    return again.length > 0 ? { calls: again, error: againError! } : undefined;
  }

  /**
   * post sends one request and returns its parsed 2xx reply; anything else
   * is thrown as a TinyCRMError (status 0 when no answer came).
   */
  async #post(path: string, body: string): Promise<unknown> {
    const ctrl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort();
    }, this.#timeoutMs);
    let status: number;
    let retryAfter: string | null;
    let text: string;
    try {
      const res = await this.#fetch(this.baseUrl + path, {
        method: "POST",
        // Only CORS-safelisted headers besides these two, so browsers may send it.
        headers: { authorization: `Bearer ${this.#apiKey}`, "content-type": "application/json" },
        body,
        signal: ctrl.signal,
      });
      status = res.status;
      retryAfter = res.headers.get("retry-after");
      text = await res.text();
    } catch (cause) {
      throw new TinyCRMError({
        status: 0,
        detail: timedOut
          ? `no answer from ${this.baseUrl} within ${this.#timeoutMs} ms`
          : `could not reach ${this.baseUrl}: ${describe(cause)}`,
        cause,
      });
    } finally {
      clearTimeout(timer);
    }
    if (status >= 200 && status < 300) {
      try {
        return text === "" ? {} : JSON.parse(text);
      } catch {
        throw new TinyCRMError({ status, detail: `the server's reply to ${path} was not JSON` });
      }
    }
    let problem: Record<string, unknown> = {};
    try {
      const p: unknown = JSON.parse(text);
      if (p !== null && typeof p === "object") problem = p as Record<string, unknown>;
    } catch {
      // Not a problem document (a proxy's page, say): described below.
    }
    const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
    throw new TinyCRMError({
      status,
      detail: str(problem.detail) ?? str(problem.title) ?? `HTTP ${status} from ${path}${text ? `: ${text.slice(0, 200).trim()}` : ""}`,
      field: str(problem.field),
      title: str(problem.title),
      type: str(problem.type),
      retryAfter: retryAfterSeconds(retryAfter, problem.retry_after),
    });
  }
}

function identifyItem(input: IdentifyInput): Record<string, unknown> {
  if (input === null || typeof input !== "object") {
    throw new TypeError("identify takes an object like { email, name, status, params }");
  }
  const item: Record<string, unknown> = { email: input.email };
  if (input.name !== undefined) item.name = input.name;
  if (input.status !== undefined) item.status = input.status;
  if (input.params !== undefined) item.params = input.params;
  if (input.timestamp !== undefined) item.timestamp = isoTime(input.timestamp);
  item.message_id = input.messageId ?? messageId();
  return item;
}

function isoTime(t: Date | string | number): string {
  if (t instanceof Date) return t.toISOString();
  if (typeof t === "number") return new Date(t).toISOString();
  return t;
}

function result(duplicate: boolean, suppressed: boolean): IdentifyResult {
  return suppressed ? { duplicate, suppressed } : { duplicate };
}

/** emailKey approximates the server's normalization, for ordering only. */
function emailKey(email: unknown): string {
  return typeof email === "string" ? email.trim().normalize("NFC").toLowerCase() : "";
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function count(v: number | undefined, def: number, min: number, max: number, name: string): number {
  if (v === undefined) return def;
  if (typeof v !== "number" || Number.isNaN(v) || v < min || v > max) {
    throw new TypeError(`TinyCRM: ${name} must be a number from ${min} to ${max}; got ${String(v)}`);
  }
  return v;
}

/** envVar reads an environment variable where there is one to read. */
function envVar(name: string): string | undefined {
  try {
    const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
    return v === undefined || v === "" ? undefined : v;
  } catch {
    // Deno without --allow-env throws; a browser has no process.
    return undefined;
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : "";
  return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
}

function warn(err: Error): void {
  (globalThis as { console?: { warn?: (...a: unknown[]) => void } }).console?.warn?.(`tinycrm: ${err.message}`);
}
