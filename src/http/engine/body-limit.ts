/**
 * Request body caps (the config's `limits`), enforced on the bytes as they arrive: a
 * Content-Length over the cap is refused before anything is read, and a body that turns out
 * longer (chunked, or a lying header) fails at the first chunk beyond it. Either way 413.
 */
import type { MiddlewareHandler } from 'hono'
import type { InflateLimits } from '../../archive/compression.ts'
import { LimitsSchema } from '../../config.ts'
import { EngineError } from '../errors.ts'

/** What callers may send. */
export interface BodyLimits {
  /** `docker load` and `docker import` bodies, and what a gzip body may unpack to. */
  bodyBytes: number
  /** JSON bodies (`docker commit`'s config). */
  jsonBytes: number
  /** How many times its size a gzip body may unpack to (past 64 MiB). */
  gzipRatio: number
}

/** The config's defaults, for apps assembled without limits. */
const DEFAULT_BODY_LIMITS: BodyLimits = LimitsSchema.parse({})

/** The app's limits: the config's, or its defaults when the app was assembled without. */
export const limitsOf = (deps: { limits?: BodyLimits }): BodyLimits => deps.limits ?? DEFAULT_BODY_LIMITS

/** What an archive body may unpack to, in the archive readers' terms. */
export const inflateLimits = (l: BodyLimits): InflateLimits => ({ maxBytes: l.bodyBytes, ratio: l.gzipRatio })

type LimitKey = 'bodyBytes' | 'jsonBytes'

const tooLarge = (what: string, limit: number, key: LimitKey) =>
  new EngineError(413, `${what} too large: more than ${limit} bytes (limits.${key})`)

/** `body`, erroring with a 413 EngineError (naming `what`) once more than `limit` bytes came. */
export function limitedStream(
  body: ReadableStream<Uint8Array>,
  limit: number,
  what: string,
  key: LimitKey = 'bodyBytes'
): ReadableStream<Uint8Array> {
  let seen = 0
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength
        if (seen > limit) throw tooLarge(what, limit, key)
        controller.enqueue(chunk)
      },
    })
  )
}

/**
 * The request's body through limitedStream; null without a body. Throws the 413 at once when
 * Content-Length already says so.
 */
export function limitedBody(
  req: Request,
  limit: number,
  key: LimitKey = 'bodyBytes'
): ReadableStream<Uint8Array> | null {
  const declared = Number(req.headers.get('content-length') ?? NaN)
  if (declared > limit) throw tooLarge('request body', limit, key)
  return req.body && limitedStream(req.body, limit, 'request body', key)
}

/**
 * Middleware for routes with a JSON body: reads it (at most `limit` bytes) into the request's
 * body cache, where the route's validator finds it; 413 beyond.
 */
export function jsonBodyLimit(limit: number): MiddlewareHandler {
  return async (c, next) => {
    const body = limitedBody(c.req.raw, limit, 'jsonBytes')
    if (body) {
      const bytes = new Uint8Array(await new Response(body).arrayBuffer().catch(rethrowLimit))
      // Hono keeps promises there, whatever its type says.
      const cache = c.req.bodyCache as Record<string, Promise<unknown>>
      cache.arrayBuffer = Promise.resolve(bytes.buffer)
    }
    await next()
  }
}

// Some runtimes wrap a body stream's error when buffering it; the 413 is what counts.
function rethrowLimit(err: unknown): never {
  const cause = (err as { cause?: unknown })?.cause
  throw cause instanceof EngineError ? cause : err
}
