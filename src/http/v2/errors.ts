/**
 * The OCI error envelope, `{"errors":[{code, message, detail}]}`, which every /v2 failure
 * answers with (unknown paths and methods included), unlike the Engine API's `{"message"}`.
 */
import { MirrorError } from '../../mirror/errors.ts'

/** The envelope for `err`, with its status and headers. */
export function ociErrorResponse(err: MirrorError, head = false): Response {
  const entry: Record<string, unknown> = { code: err.code, message: err.message }
  if (err.detail !== undefined) entry.detail = err.detail
  const body = JSON.stringify({ errors: [entry] })
  const headers = new Headers(err.headers)
  headers.set('content-type', 'application/json; charset=utf-8')
  headers.set('content-length', String(new TextEncoder().encode(body).byteLength))
  return new Response(head ? null : body, { status: err.status, headers })
}

/** Anything thrown under /v2, as a MirrorError (the unexpected ones are 500 UNKNOWN). */
export function asMirrorError(err: unknown): MirrorError {
  if (err instanceof MirrorError) return err
  const message = err instanceof Error && err.message ? err.message : 'internal server error'
  return new MirrorError(500, 'UNKNOWN', message, undefined, {}, { cause: err })
}

/** 404 for paths the mirror does not serve. */
export const pathUnknown = (path: string): MirrorError =>
  new MirrorError(404, 'UNSUPPORTED', `no such endpoint: ${path}`, undefined)

/** 405 for methods the mirror does not serve: it is read-only. */
export const methodUnsupported = (method: string): MirrorError =>
  new MirrorError(
    405,
    'UNSUPPORTED',
    `${method} is not supported: this registry is a read-only pull-through mirror`,
    undefined,
    { allow: 'GET, HEAD' }
  )
