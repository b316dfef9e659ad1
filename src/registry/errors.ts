/**
 * The registry client's one error type, and the distinct error for manifests it refuses.
 *
 * `RegistryError.message` is for logs (ofetch style: method, URL, status). `dockerText()`
 * is what dockerd would print, because the Engine API shows registry failures verbatim
 * (image-api-notes §5.3): `<code in lower case, _ as space>: <message>` for registry error
 * codes, Go's `url.Error` text (`Get "<url>": dial tcp …`) for transport failures.
 */

/** One entry of the OCI error envelope `{"errors":[{code,message,detail}]}`. */
export interface RegistryErrorDetail {
  code: string
  message: string
  detail?: unknown
}

/** A request as an error names it: method and (redacted) URL. */
export interface RequestInfo {
  method: string
  url: string
}

/** What a `RegistryError` is built from. */
export interface RegistryErrorInit extends RequestInfo {
  /** The HTTP status; absent when no response arrived (network, TLS, missing credentials). */
  status?: number
  statusText?: string
  errors?: RegistryErrorDetail[]
  /** Go's wording for a failure that carries no registry error code. */
  text?: string
  /** The registry request this one was made for (a token request): Go reports that one. */
  outer?: RequestInfo
  /** The response's `Retry-After`, as sent: a mirror passes it on to its own clients. */
  retryAfter?: string
  cause?: unknown
}

// distribution's errcode catalogue: codes it knows and their default messages.
const DEFAULT_MESSAGES: Record<string, string> = {
  UNKNOWN: 'unknown error',
  UNSUPPORTED: 'The operation is unsupported.',
  UNAUTHORIZED: 'authentication required',
  DENIED: 'requested access to the resource is denied',
  UNAVAILABLE: 'service unavailable',
  TOOMANYREQUESTS: 'too many requests',
  DIGEST_INVALID: 'provided digest did not match uploaded content',
  SIZE_INVALID: 'provided length did not match content length',
  RANGE_INVALID: 'invalid content range',
  NAME_INVALID: 'invalid repository name',
  TAG_INVALID: 'manifest tag did not match URI',
  NAME_UNKNOWN: 'repository name not known to registry',
  MANIFEST_UNKNOWN: 'manifest unknown',
  MANIFEST_INVALID: 'manifest invalid',
  MANIFEST_UNVERIFIED: 'manifest failed signature verification',
  MANIFEST_BLOB_UNKNOWN: 'blob unknown to registry',
  BLOB_UNKNOWN: 'blob unknown to registry',
  BLOB_UPLOAD_UNKNOWN: 'blob upload unknown to registry',
  BLOB_UPLOAD_INVALID: 'blob upload invalid',
  PAGINATION_NUMBER_INVALID: 'invalid number of results requested',
}

/** The message distribution uses when a registry sends a code without one. */
export const defaultMessage = (code: string): string =>
  DEFAULT_MESSAGES[code] ?? DEFAULT_MESSAGES.UNKNOWN

/** `MANIFEST_UNKNOWN` + `manifest unknown` → `manifest unknown: manifest unknown`. */
export function errorDetailText(e: RegistryErrorDetail): string {
  // Go's errcode turns codes it does not know into UNKNOWN when it decodes the envelope.
  const code = e.code in DEFAULT_MESSAGES ? e.code : 'UNKNOWN'
  return `${code.toLowerCase().replaceAll('_', ' ')}: ${e.message}`
}

/** `GET` → `Get`, as Go's url.Error names the operation. */
export const goMethod = (method: string): string =>
  method.charAt(0).toUpperCase() + method.slice(1).toLowerCase()

/** Any failure talking to a registry: a response it did not want, or no response at all. */
export class RegistryError extends Error {
  override name = 'RegistryError'
  readonly method: string
  readonly url: string
  readonly status: number | undefined
  readonly statusText: string
  readonly errors: RegistryErrorDetail[]
  readonly outer: RequestInfo | undefined
  readonly retryAfter: string | undefined
  private readonly text: string

  constructor(init: RegistryErrorInit) {
    super(formatMessage(init), { cause: init.cause })
    this.method = init.method
    this.url = init.url
    this.status = init.status
    this.statusText = init.statusText ?? ''
    this.errors = init.errors ?? []
    this.outer = init.outer
    this.retryAfter = init.retryAfter
    this.text = init.text ?? ''
  }

  /** The first registry error code (`MANIFEST_UNKNOWN`, `DENIED`…), if the registry sent one. */
  get code(): string | undefined {
    return this.errors[0]?.code
  }

  /** True when no HTTP response arrived: connection, DNS or TLS failure, missing credentials. */
  get transport(): boolean {
    return this.status === undefined
  }

  /** dockerd's wording for this failure (the first error when the registry sent several). */
  dockerText(): string {
    const base = this.errors.length > 0 ? errorDetailText(this.errors[0]) : this.text
    const own = this.status === undefined ? `${goMethod(this.method)} "${this.url}": ${base}` : base
    return this.outer ? `${goMethod(this.outer.method)} "${this.outer.url}": ${own}` : own
  }
}

/** `[GET] "<url>": 404 Not Found: manifest unknown: …`, or `[GET] "<url>": dial tcp …`. */
function formatMessage(init: RegistryErrorInit): string {
  const detail = init.errors?.length
    ? init.errors.map(errorDetailText).join('; ')
    : (init.text ?? '')
  const status =
    init.status === undefined ? [] : [`${init.status} ${init.statusText ?? ''}`.trimEnd()]
  const via = init.outer ? ` (for [${init.outer.method}] "${init.outer.url}")` : ''
  return `[${init.method}] "${init.url}"${via}: ${[...status, detail].filter(Boolean).join(': ')}`
}

/** Why a manifest was refused; `schema1` and `media-type` stop endpoint fallback. */
export type UnsupportedManifestKind = 'schema1' | 'media-type'

/** A manifest the client will not hand out: Docker schema 1, or a type that is not one. */
export class UnsupportedManifestError extends Error {
  override name = 'UnsupportedManifestError'
  constructor(
    readonly kind: UnsupportedManifestKind,
    readonly mediaType: string,
    /** The reference as the client knew it (`path:tag` or `path@digest`). */
    readonly ref: string
  ) {
    super('')
    this.message = this.dockerText(ref)
  }

  /** dockerd's wording; pass the user's reference (`docker.io/library/x:tag`) for `<ref>`. */
  dockerText(ref: string = this.ref): string {
    if (this.kind === 'media-type') return `unsupported media type ${this.mediaType}`
    return (
      'Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been ' +
      `removed. Suggest the author of ${ref} to upgrade the image to the OCI Format or Docker ` +
      'Image manifest v2, schema 2. More information at ' +
      'https://docs.docker.com/go/deprecated-image-specs/'
    )
  }
}

const SECRET_PARAM = /token|sig|signature|credential|secret|password|key|auth/i

/** Drops userinfo and the values of query parameters that look like secrets. */
export function redactUrl(url: string | URL): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return String(url)
  }
  if (u.username || u.password) {
    u.username = 'REDACTED'
    u.password = ''
  }
  for (const key of [...new Set(u.searchParams.keys())]) {
    if (SECRET_PARAM.test(key)) u.searchParams.set(key, 'REDACTED')
  }
  return u.toString()
}
