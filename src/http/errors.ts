/**
 * The Engine API's one error type and its one handler. Bodies are `{"message"}` with a
 * Content-Type of exactly `application/json`: the docker CLI prints raw JSON otherwise.
 */
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

export class EngineError extends Error {
  override name = 'EngineError'
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    options?: { cause?: unknown }
  ) {
    super(message, options)
  }
}

/** Anything with a numeric `status` and a message is shown as is; the rest is a 500. */
function statusOf(err: unknown): ContentfulStatusCode {
  if (err instanceof HTTPException) return err.status as ContentfulStatusCode
  const s = (err as { status?: unknown })?.status
  return typeof s === 'number' && s >= 400 && s <= 599 ? (s as ContentfulStatusCode) : 500
}

export function engineErrorResponse(status: number, message: string): Response {
  return new Response(JSON.stringify({ message }), {
    status,
    headers: { 'content-type': 'application/json' },
  })
}

export function onEngineError(err: Error, c: Context): Response {
  const status = statusOf(err)
  if (status >= 500) console.error(`${c.req.method} ${c.req.path}:`, err)
  return engineErrorResponse(status, err.message || 'internal server error')
}

export const pageNotFound = (): Response => engineErrorResponse(404, 'page not found')
