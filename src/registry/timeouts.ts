/**
 * Upstream timeouts, as one more wrapper around the injected fetch (see fetch.ts), built from
 * AbortController and timers only, so Node, Bun, Deno and Workers all have them:
 *
 * - headers: how long a request may wait for its response headers (Go's
 *   `ResponseHeaderTimeout`). Requests with a body (uploads) are exempt: fetch does not say
 *   when the body has been sent, and a large PATCH legitimately takes long.
 * - idle: how long a body read may wait for its next bytes. Only reads the consumer asked for
 *   count, so a slow consumer (backpressure) never looks like a stalled upstream.
 *
 * Either expiry aborts the request, which drops the connection, and fails the fetch or the
 * body read with an `UpstreamTimeoutError`: retried like a reset (send.ts), and a body that
 * stalls is resumed with Range (resume.ts) within the same retry budget.
 */
import type { Fetch } from './fetch.ts'

/** Timeouts in milliseconds; 0 turns one off. */
export interface Timeouts {
  /** From sending a request (without a body) until its response headers (default 30 s). */
  headersMs?: number
  /** Longest wait for the next bytes of a response body (default 60 s). */
  idleMs?: number
}

export const DEFAULT_TIMEOUTS: Required<Timeouts> = { headersMs: 30_000, idleMs: 60_000 }

/**
 * Upstream took too long. `code` is the one Node's fetch gives its own timeouts of the same
 * kind, so network.ts words and classifies both alike.
 */
export class UpstreamTimeoutError extends Error {
  override name = 'UpstreamTimeoutError'
  readonly code: 'UND_ERR_HEADERS_TIMEOUT' | 'UND_ERR_BODY_TIMEOUT'
  constructor(
    readonly phase: 'headers' | 'body',
    readonly ms: number
  ) {
    const what = phase === 'headers' ? 'no response headers' : 'no body bytes'
    super(`upstream timeout: ${what} for ${ms / 1000}s`)
    this.code = phase === 'headers' ? 'UND_ERR_HEADERS_TIMEOUT' : 'UND_ERR_BODY_TIMEOUT'
  }
}

// Statuses a Response may not be built with a body for (Fetch standard).
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304])

/** Wraps `fetch` so that every request is bounded by `timeouts` (defaults filled in). */
export function withTimeouts(fetch: Fetch, timeouts: Timeouts = {}): Fetch {
  const headersMs = timeouts.headersMs ?? DEFAULT_TIMEOUTS.headersMs
  const idleMs = timeouts.idleMs ?? DEFAULT_TIMEOUTS.idleMs
  if (headersMs <= 0 && idleMs <= 0) return fetch
  return async function fetchWithTimeouts(request) {
    const expiry = new AbortController()
    let expired: UpstreamTimeoutError | undefined
    const expire = (err: UpstreamTimeoutError) => {
      expired = err
      expiry.abort(err)
    }
    const signal = AbortSignal.any([request.signal, expiry.signal])
    const timer =
      headersMs > 0 && request.body === null
        ? setTimeout(() => expire(new UpstreamTimeoutError('headers', headersMs)), headersMs)
        : undefined
    let res: Response
    try {
      res = await fetch(new Request(request, { signal }))
    } catch (err) {
      throw expired ?? err
    } finally {
      clearTimeout(timer)
    }
    if (!res.body || idleMs <= 0 || NULL_BODY_STATUS.has(res.status)) return res
    const body = idleGuard(res.body, idleMs, expire)
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers })
  }
}

/**
 * `body`, failing with an `UpstreamTimeoutError` (after `onIdle` has been told, to drop the
 * connection) when a read waits more than `ms` for bytes. One timer re-armed lazily, rather
 * than one per chunk: a GiB arrives in some 16,000 chunks.
 */
export function idleGuard(
  body: ReadableStream<Uint8Array>,
  ms: number,
  onIdle: (err: UpstreamTimeoutError) => void
): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  let waitingSince = 0 // when the pending read started; 0 while none is
  let timer: ReturnType<typeof setTimeout> | undefined
  let failed: UpstreamTimeoutError | undefined
  const check = () => {
    timer = undefined
    if (!waitingSince) return
    const left = waitingSince + ms - Date.now()
    if (left > 0) return void (timer = setTimeout(check, left))
    failed = new UpstreamTimeoutError('body', ms)
    onIdle(failed)
    reader.cancel(failed).catch(() => {})
  }
  const stop = () => {
    clearTimeout(timer)
    timer = undefined
  }
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        waitingSince = Date.now()
        timer ??= setTimeout(check, ms)
        let result: Awaited<ReturnType<typeof reader.read>>
        try {
          result = await reader.read()
        } catch (err) {
          stop()
          throw failed ?? err
        } finally {
          waitingSince = 0
        }
        // A cancel by the watchdog ends the pending read as if the body were complete.
        if (failed) throw failed
        if (result.done) {
          stop()
          controller.close()
        } else controller.enqueue(result.value)
      },
      cancel(reason) {
        stop()
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 }
  )
}
