/**
 * The optional per-client rate limit: a token bucket per client address (`burst` requests at
 * once, refilled at `requestsPerSecond`), in a map bounded to `maxClients` entries so memory
 * stays flat whoever knocks. When full, the least recently seen client's bucket goes; that
 * client starts again with a full bucket, which errs on the side of serving. Refusals are
 * 429 with Retry-After, in the caller's format: OCI `TOOMANYREQUESTS` under /v2, `{"message"}`
 * everywhere else.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { MirrorError } from '../mirror/errors.ts'
import { engineErrorResponse } from './errors.ts'
import { ociErrorResponse } from './v2/errors.ts'

export interface RateLimitOptions {
  requestsPerSecond: number
  burst: number
  /** How many clients' buckets are kept (default 10,000: well under a MiB). */
  maxClients?: number
  /** Milliseconds, monotonic enough; injectable for tests. */
  now?: () => number
}

interface Bucket {
  tokens: number
  at: number
}

/** Token buckets per key. `take` spends one token, or says how long until one is there. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>()
  private readonly now: () => number
  private readonly maxClients: number

  constructor(private readonly options: RateLimitOptions) {
    this.now = options.now ?? (() => performance.now())
    this.maxClients = options.maxClients ?? 10_000
  }

  /** 0 when the request may go; else the seconds to wait (at least 1, for Retry-After). */
  take(key: string): number {
    const { requestsPerSecond: rate, burst } = this.options
    const now = this.now()
    const found = this.buckets.get(key)
    const bucket = found ?? { tokens: burst, at: now }
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate)
    bucket.at = now
    // Re-inserted, so the map's first key is always the least recently seen client.
    if (found) this.buckets.delete(key)
    else if (this.buckets.size >= this.maxClients) this.buckets.delete(this.buckets.keys().next().value!)
    this.buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate))
  }

  get size(): number {
    return this.buckets.size
  }
}

/** The client's address as the runtime saw it (the socket's peer), if it knows. */
export type ClientAddress = (req: Request, env: unknown) => string | undefined

/**
 * Who is asking: the connection's peer, or with `trustProxy` the last X-Forwarded-For entry
 * (the address the proxy in front saw; earlier entries are the client's own claims).
 */
export function clientOf(c: Context, clientAddress: ClientAddress | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim()
    if (forwarded) return forwarded
  }
  return clientAddress?.(c.req.raw, c.env) ?? 'unknown'
}

const MIRROR_PATH = /^\/v2(?:\/|$)/

/** Middleware for the whole app (both faces), registered before anything else. */
export function rateLimit(
  options: RateLimitOptions,
  clientAddress: ClientAddress | undefined,
  trustProxy = false
): MiddlewareHandler {
  const buckets = new TokenBuckets(options)
  return async function rateLimit(c, next) {
    const wait = buckets.take(clientOf(c, clientAddress, trustProxy))
    if (wait === 0) return next()
    const message = `too many requests: retry in ${wait} s`
    const headers = { 'retry-after': String(wait) }
    if (MIRROR_PATH.test(new URL(c.req.url).pathname)) {
      const err = new MirrorError(429, 'TOOMANYREQUESTS', message, undefined, headers)
      return ociErrorResponse(err, c.req.method === 'HEAD')
    }
    const res = engineErrorResponse(429, message)
    res.headers.set('retry-after', headers['retry-after'])
    return res
  }
}
