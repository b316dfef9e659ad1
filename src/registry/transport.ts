/**
 * An authorized request to a registry: the session's `Authorization` on top of the retry
 * loop, and one fresh try after a 401 (expired token, or a repository that wants auth
 * although `/v2/` did not). Everything above this file deals in responses, never tokens.
 */
import type { AuthSession } from './auth/session.ts'
import { discard } from './body.ts'
import type { ClientContext } from './context.ts'
import { redactUrl, type RequestInfo } from './errors.ts'
import { sendWithRetry } from './send.ts'

/** One request as the repository client describes it. */
export interface RegistryRequest {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  url: string
  headers?: Record<string, string>
  /** Sent as is on every try, so it must be bytes, not a stream (uploads). */
  body?: Uint8Array
  signal?: AbortSignal
  /** Retry 408/429/5xx (default true); connection errors are retried regardless. */
  retryStatus?: boolean
  /** Tries before giving up, when the caller runs its own retry loop (default: the policy). */
  attempts?: number
}

/** Sends `r` with authorization; returns whatever response comes last (callers check it). */
export async function send(
  ctx: ClientContext,
  session: AuthSession,
  r: RegistryRequest
): Promise<Response> {
  const info = requestInfo(r)
  let authorization = await session.authorization(info, r.signal)
  for (let fresh = false; ; fresh = true) {
    const used = authorization
    const res = await sendWithRetry(ctx, () => build(r, used), {
      signal: r.signal,
      retryStatus: r.retryStatus,
      attempts: r.attempts,
    })
    if (res.status !== 401 || fresh || !session.unauthorized(res, used)) return res
    await discard(res)
    authorization = await session.authorization(info, r.signal)
  }
}

/** Method and redacted URL, as errors name a request. */
export const requestInfo = (r: RegistryRequest): RequestInfo => ({
  method: r.method ?? 'GET',
  url: redactUrl(r.url),
})

function build(r: RegistryRequest, authorization: string | undefined): Request {
  const headers = new Headers(r.headers)
  if (authorization) headers.set('authorization', authorization)
  return new Request(r.url, { method: r.method ?? 'GET', headers, body: r.body as BodyInit | undefined, signal: r.signal })
}
