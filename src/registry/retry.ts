/**
 * When and how long to wait before repeating a request. Decided in one place, as ofetch
 * does: connection errors (see network.ts), 408, 429 and 5xx are retried with exponential
 * backoff and jitter; other 4xx never are.
 */

/** The knobs `createRegistryClient({ retry })` accepts. */
export interface RetryOptions {
  /** Total tries per request, the first one included (default 5, as dockerd for configs). */
  attempts?: number
  /** First backoff (default 250 ms, doubled per try, as dockerd). */
  baseDelayMs?: number
  /** Cap for one backoff and for an honoured `Retry-After` (default 10 s). */
  maxDelayMs?: number
}

/** `RetryOptions` with defaults filled in. */
export type RetryPolicy = Required<RetryOptions>

/** Defaults filled in, nonsense clamped. */
export function retryPolicy(opts: RetryOptions = {}): RetryPolicy {
  return {
    attempts: Math.max(1, Math.floor(opts.attempts ?? 5)),
    baseDelayMs: Math.max(0, opts.baseDelayMs ?? 250),
    maxDelayMs: Math.max(0, opts.maxDelayMs ?? 10_000),
  }
}

const RETRYABLE_STATUS = new Set([
  408, // Request Timeout
  429, // Too Many Requests
  500, // Internal Server Error
  502, // Bad Gateway
  503, // Service Unavailable
  504, // Gateway Timeout
])

/** True for statuses a later try may turn into a success. */
export const isRetryableStatus = (status: number): boolean =>
  RETRYABLE_STATUS.has(status) || (status > 504 && status < 600 && status !== 505)

/** Backoff before try `attempt + 1` (attempts count from 1): half to all of base·2^(n−1). */
export function backoffDelay(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

/**
 * `Retry-After` in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  const date = Date.parse(v)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/**
 * How long to wait before retrying after `res`, or undefined to give up. A `Retry-After`
 * longer than the cap is not waited out: failing now beats failing after the cap.
 */
export function delayAfterResponse(
  policy: RetryPolicy,
  res: Response,
  attempt: number,
  now = Date.now()
): number | undefined {
  if (attempt >= policy.attempts || !isRetryableStatus(res.status)) return undefined
  const retryAfter = parseRetryAfter(res.headers.get('retry-after'), now)
  if (retryAfter === undefined) return backoffDelay(policy, attempt)
  return retryAfter > policy.maxDelayMs ? undefined : retryAfter
}
