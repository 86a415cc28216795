/** What the SDK knows about one failed call. */
export interface TinyCRMErrorInit {
  /** HTTP status of the answer, or 0 when no answer came. */
  status: number;
  /** The server's problem `detail`, or what went wrong on the way. */
  detail: string;
  /** The request field at fault, when the server named one. */
  field?: string;
  title?: string;
  type?: string;
  /** Seconds the server asked us to wait before trying again. */
  retryAfter?: number;
  cause?: unknown;
}

/**
 * TinyCRMError is how every call fails: a problem the server answered
 * (RFC 9457 problem+json, or a rejected batch item), a network error or
 * time-out that outlasted the retries, or a full queue. Its message is the
 * server's own: `"email: must contain exactly one @"`.
 */
export class TinyCRMError extends Error {
  /** HTTP status of the answer; 0 when no answer came (network error, time-out). */
  readonly status: number;
  /** The server's problem `detail` (without the field name). */
  readonly detail: string;
  /** The request field at fault (`"email"`, `"params.mrr"`, …), when named. */
  readonly field?: string;
  readonly title?: string;
  readonly type?: string;
  /** Seconds the server asked to wait (Retry-After), when it said. */
  readonly retryAfter?: number;

  constructor(init: TinyCRMErrorInit) {
    super(init.field ? `${init.field}: ${init.detail}` : init.detail, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "TinyCRMError";
    this.status = init.status;
    this.detail = init.detail;
    if (init.field) this.field = init.field;
    if (init.title) this.title = init.title;
    if (init.type) this.type = init.type;
    if (init.retryAfter !== undefined) this.retryAfter = init.retryAfter;
  }

  /**
   * Whether trying again may succeed: no answer at all, a 5xx or a 429.
   * Any other 4xx is the request's fault and is never retried.
   */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}
