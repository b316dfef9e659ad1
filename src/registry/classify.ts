/**
 * The one function that turns an unwanted HTTP response into a `RegistryError`, following
 * distribution's client (`HandleErrorResponse`, image-api-notes §5.3): Bearer challenge
 * errors first, then the OCI error envelope, then the special cases for bodies that are
 * not an envelope. Call sites never parse error bodies themselves.
 */
import { responseChallenges } from './auth/challenge.ts'
import { readSmallText } from './body.ts'
import {
  defaultMessage,
  RegistryError,
  type RegistryErrorDetail,
  type RequestInfo,
} from './errors.ts'
import { statusText } from './status-text.ts'

/** Reads (at most 64 KiB of) `res` and classifies it. `info.url` should be redacted. */
export async function errorFromResponse(
  res: Response,
  info: RequestInfo,
  outer?: RequestInfo
): Promise<RegistryError> {
  const status = res.status
  const base = {
    ...info,
    status,
    statusText: res.statusText || statusText(status),
    outer,
    retryAfter: res.headers.get('retry-after') ?? undefined,
  }
  const body = info.method === 'HEAD' ? '' : await readSmallText(res)
  if (status < 400 || status >= 500) {
    return new RegistryError({
      ...base,
      text: `received unexpected HTTP status: ${status} ${base.statusText}`.trimEnd(),
    })
  }
  const parsed = parseErrorBody(status, res.headers.get('content-type'), body)
  for (const c of responseChallenges(res)) {
    if (c.scheme !== 'bearer') continue
    const code =
      c.params.error === 'invalid_token'
        ? 'UNAUTHORIZED'
        : c.params.error === 'insufficient_scope'
          ? 'DENIED'
          : undefined
    if (!code) continue
    const first = { code, message: c.params.error_description || defaultMessage(code) }
    return new RegistryError({ ...base, errors: [first, ...(parsed.errors ?? [])] })
  }
  if (!parsed.errors && status === 401) {
    return new RegistryError({
      ...base,
      errors: [{ code: 'UNAUTHORIZED', message: defaultMessage('UNAUTHORIZED'), detail: body }],
    })
  }
  return new RegistryError({ ...base, ...parsed })
}

const BODY_CODES: Record<number, string> = {
  401: 'UNAUTHORIZED',
  403: 'DENIED',
  429: 'TOOMANYREQUESTS',
}

/** distribution's `parseHTTPErrorResponse`: either registry errors or Go's parse failure. */
function parseErrorBody(
  status: number,
  contentType: string | null,
  body: string
): { errors?: RegistryErrorDetail[]; text?: string } {
  const mediaType = contentType?.split(';')[0].trim().toLowerCase() ?? ''
  const isJson = mediaType === 'application/json' || mediaType.endsWith('+json')
  if (!isJson && status in BODY_CODES) {
    const code = BODY_CODES[status]
    return { errors: [{ code, message: body || defaultMessage(code) }] }
  }
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return { text: unexpected(status, jsonFailure(body), body) }
  }
  // Older token servers (and Docker Hub's) answer `{"details":"incorrect username or password"}`.
  const details = (json as { details?: unknown } | null)?.details
  if (typeof details === 'string' && details) {
    return { errors: [{ code: BODY_CODES[status] ?? 'UNKNOWN', message: details }] }
  }
  const errors = envelopeErrors(json)
  if (errors.length === 0) {
    return { text: unexpected(status, 'no error details found in HTTP response body', body) }
  }
  return { errors }
}

function envelopeErrors(json: unknown): RegistryErrorDetail[] {
  const list = (json as { errors?: unknown } | null)?.errors
  if (!Array.isArray(list)) return []
  return list
    .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
    .map((e) => {
      const code = typeof e.code === 'string' && e.code ? e.code.toUpperCase() : 'UNKNOWN'
      const message = typeof e.message === 'string' && e.message ? e.message : defaultMessage(code)
      return e.detail === undefined ? { code, message } : { code, message, detail: e.detail }
    })
}

const unexpected = (status: number, reason: string, body: string): string =>
  `error parsing HTTP ${status} response body: ${reason}: ${JSON.stringify(body)}`

/** Go's encoding/json wording for the two common failures. */
function jsonFailure(body: string): string {
  const first = body.trimStart()[0]
  return first === undefined
    ? 'unexpected end of JSON input'
    : `invalid character '${first}' looking for beginning of value`
}
