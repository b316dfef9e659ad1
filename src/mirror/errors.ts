/**
 * The mirror's one error type, carrying what the OCI error envelope needs (status, code,
 * message, detail), and the mapping of upstream failures onto it. The HTTP layer renders it
 * (src/http/v2/errors.ts); nothing here knows about responses.
 */
import { DigestMismatchError } from '../oci/digest.ts'
import { RegistryError, UnsupportedManifestError } from '../registry/errors.ts'

/** A failure as a /v2 client sees it: `{"errors":[{code, message, detail}]}` with `status`. */
export class MirrorError extends Error {
  override name = 'MirrorError'
  constructor(
    readonly status: number,
    /** An OCI distribution error code: `MANIFEST_UNKNOWN`, `DENIED`… */
    readonly code: string,
    message: string,
    readonly detail?: unknown,
    /** Extra response headers (`Retry-After`, `WWW-Authenticate`). */
    readonly headers: Record<string, string> = {},
    options?: { cause?: unknown }
  ) {
    super(message, options)
  }
}

export const nameInvalid = (name: string, why: string): MirrorError =>
  new MirrorError(400, 'NAME_INVALID', 'invalid repository name', { name, reason: why })

export const manifestUnknown = (ref: string): MirrorError => {
  const detail = ref.includes(':') ? { Digest: ref } : { Tag: ref }
  return new MirrorError(404, 'MANIFEST_UNKNOWN', 'manifest unknown', detail)
}

export const blobUnknown = (digest: string): MirrorError =>
  new MirrorError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', { Digest: digest })

export const digestInvalid = (ref: string, why: string): MirrorError =>
  new MirrorError(400, 'DIGEST_INVALID', `invalid digest ${ref}: ${why}`, { Digest: ref })

/**
 * The caller may not read this (or sent credentials that are no good): 401, which the HTTP
 * layer answers with a `WWW-Authenticate` challenge to this mirror's token endpoint.
 */
export const unauthorized = (message = 'authentication required', detail?: unknown): MirrorError =>
  new MirrorError(401, 'UNAUTHORIZED', message, detail)

/** A registry the config does not name: the mirror is no open proxy. */
export const registryDenied = (host: string): MirrorError =>
  new MirrorError(
    403,
    'DENIED',
    `registry ${host} is not served by this mirror: add it to "registries" in the config`,
    { registry: host }
  )

/**
 * True when the upstream refused the credentials used (or their absence): 401, 403, or a
 * Basic challenge the client had no credentials to answer.
 */
export function upstreamRefused(err: unknown): boolean {
  if (!(err instanceof RegistryError)) return false
  if (err.status === 401 || err.status === 403) return true
  return err.status === undefined && err.message.endsWith('no basic auth credentials')
}

/**
 * True when the upstream could not answer (no response, 408, 429, 5xx): a cached tag is then
 * served stale rather than failing the client.
 */
export function upstreamUnavailable(err: unknown): boolean {
  if (!(err instanceof RegistryError) || upstreamRefused(err)) return false
  const s = err.status
  return s === undefined || s === 408 || s === 429 || s >= 500
}

/** True when the upstream said the manifest, blob or repository does not exist. */
export function upstreamNotFound(err: unknown): boolean {
  return err instanceof RegistryError && err.status === 404
}

const UPSTREAM_CODES: Record<number, [string, string]> = {
  401: ['UNAUTHORIZED', 'authentication required'],
  403: ['DENIED', 'requested access to the resource is denied'],
  404: ['NAME_UNKNOWN', 'repository name not known to registry'],
  429: ['TOOMANYREQUESTS', 'too many requests'],
}

/** Maps a failure talking to the upstream onto what the mirror answers. */
export function fromUpstream(err: unknown): MirrorError {
  if (err instanceof MirrorError) return err
  // Clients of a rate-limited or overloaded upstream wait as long as it asked.
  const retryAfter: Record<string, string> =
    err instanceof RegistryError && err.retryAfter ? { 'retry-after': err.retryAfter } : {}
  const because = (status: number, code: string, message: string, detail?: unknown) =>
    new MirrorError(status, code, message, detail, status === 429 || status >= 500 ? retryAfter : {}, { cause: err })
  if (err instanceof UnsupportedManifestError) {
    return because(400, 'UNSUPPORTED', err.message, { mediaType: err.mediaType })
  }
  if (err instanceof DigestMismatchError) {
    return because(502, 'UNKNOWN', `upstream sent bad content: ${err.message}`)
  }
  if (!(err instanceof RegistryError)) {
    return because(500, 'UNKNOWN', (err as Error)?.message || 'internal error')
  }
  const s = err.status
  if (s === undefined && upstreamRefused(err)) return because(401, ...UPSTREAM_CODES[401]!)
  // A success whose content was refused (a manifest past 4 MiB): upstream's fault, never a 2xx.
  if (s !== undefined && s < 400) {
    return because(502, 'UNKNOWN', `upstream sent bad content: ${err.dockerText()}`)
  }
  if (s === undefined || s >= 500 || s === 408) {
    return because(502, 'UNAVAILABLE', `upstream unavailable: ${err.dockerText()}`)
  }
  const first = err.errors[0]
  // The mirror's challenge, not upstream's, follows a 401: its own code goes with it.
  if (s === 401) return because(401, 'UNAUTHORIZED', first?.message ?? UPSTREAM_CODES[401]![1])
  const [code, message] = first
    ? [first.code, first.message]
    : (UPSTREAM_CODES[s] ?? ['UNKNOWN', err.dockerText()])
  return because(s, code, message, first?.detail)
}
