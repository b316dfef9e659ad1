/**
 * The one primitive every registry request goes through, in the spirit of ggcr's
 * RoundTripper chain: auth, retries and the user agent wrap an injected `fetch`, so the
 * same client runs on Node, Bun, Deno and Workers and tests can hand it anything.
 */

/** A Web-standard fetch reduced to what the client needs: a Request in, a Response out. */
export type Fetch = (request: Request) => Promise<Response>

/** Waits `ms`, rejecting with the signal's reason as soon as it aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>

/** The default `Sleep`: a timer that is cleared when the signal aborts. */
export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })

/** Sets `User-Agent` on every request that does not carry one already. */
export function withUserAgent(fetch: Fetch, userAgent: string): Fetch {
  return function fetchWithUserAgent(request) {
    if (request.headers.has('user-agent')) return fetch(request)
    const headers = new Headers(request.headers)
    headers.set('user-agent', userAgent)
    return fetch(new Request(request, { headers }))
  }
}

/** Throws the signal's reason (an AbortError by default) when it has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw signal.reason ?? new DOMException('The operation was aborted.', 'AbortError')
}

/** True for the error fetch and streams raise when a signal aborts them. */
export function isAbortError(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'AbortError'
}

/** Waits for `promise`, but rejects as soon as `signal` aborts (the work itself goes on). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise
  throwIfAborted(signal)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
