/**
 * backoffMs is the wait before retry number attempt+1: exponential from
 * baseMs, capped at maxMs, with "equal jitter" (a random point in the upper
 * half) so that many clients failing together do not retry together.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

/**
 * retryAfterSeconds reads a Retry-After header (delta-seconds or an HTTP
 * date), falling back to the problem body's retry_after.
 */
export function retryAfterSeconds(header: string | null | undefined, body: unknown, now: number = Date.now()): number | undefined {
  if (header) {
    const h = header.trim();
    if (/^\d+$/.test(h)) return Number(h);
    const at = Date.parse(h);
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - now) / 1000));
  }
  if (typeof body === "number" && Number.isFinite(body) && body >= 0) return body;
  return undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
