/**
 * Fetch failures (no HTTP response) in Go's words. Runtimes disagree on how they report
 * them: Node wraps an errno error in `TypeError('fetch failed', { cause })`, Bun puts the
 * errno on the TypeError itself, Workers only has a message. dockerd prints Go's
 * `url.Error`, e.g. `Get "http://h:1/v2/": dial tcp h:1: connect: connection refused`.
 */

/** The errno-style code somewhere in an error's cause chain (`ECONNREFUSED`…). */
export function errorCode(err: unknown, depth = 0): string | undefined {
  if (typeof err !== 'object' || err === null || depth > 5) return undefined
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown }
  if (typeof e.code === 'string' && e.code) return e.code
  const fromCause = errorCode(e.cause, depth + 1)
  if (fromCause) return fromCause
  // Node's happy-eyeballs connect raises an AggregateError with one error per address.
  if (Array.isArray(e.errors))
    for (const inner of e.errors) {
      const code = errorCode(inner, depth + 1)
      if (code) return code
    }
  return undefined
}

/** The innermost message, which is usually the specific one ("other side closed"). */
function innermostMessage(err: unknown): string {
  let e = err as { message?: unknown; cause?: unknown } | undefined
  let message = String(e?.message ?? err)
  for (let i = 0; i < 5 && e?.cause && typeof e.cause === 'object'; i++) {
    e = e.cause as typeof e
    if (typeof e?.message === 'string' && e.message) message = e.message
  }
  return message
}

const hostPort = (u: URL): string =>
  `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`

const CERT_CODES: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'x509: certificate signed by unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'x509: certificate signed by unknown authority',
  SELF_SIGNED_CERT_IN_CHAIN: 'x509: certificate signed by unknown authority',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'x509: certificate signed by unknown authority',
  CERT_HAS_EXPIRED: 'x509: certificate has expired or is not yet valid',
  CERT_NOT_YET_VALID: 'x509: certificate has expired or is not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'x509: certificate is not valid for this host',
}

/** Go's text for a failed request to `url` (without the `Get "<url>": ` prefix). */
export function networkErrorText(err: unknown, url: URL): string {
  const code = errorCode(err)
  const message = innermostMessage(err)
  if ((err as { name?: unknown } | null)?.name === 'TimeoutError') {
    return 'net/http: request canceled (Client.Timeout exceeded while awaiting headers)'
  }
  switch (code) {
    case 'ECONNREFUSED':
      return `dial tcp ${hostPort(url)}: connect: connection refused`
    case 'ENOTFOUND':
      return `dial tcp: lookup ${url.hostname}: no such host`
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${url.hostname}: temporary failure in name resolution`
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `dial tcp ${hostPort(url)}: i/o timeout`
    case 'ECONNRESET':
      return `read tcp ${hostPort(url)}: read: connection reset by peer`
    case 'EPIPE':
      return `write tcp ${hostPort(url)}: write: broken pipe`
    case 'UND_ERR_SOCKET':
      return 'unexpected EOF'
    // Node's fetch sets these on its own timeouts; ours (timeouts.ts) reuse them.
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'net/http: timeout awaiting response headers'
    case 'UND_ERR_BODY_TIMEOUT':
      return `read tcp ${hostPort(url)}: i/o timeout`
  }
  if (code && code in CERT_CODES) return `tls: failed to verify certificate: ${CERT_CODES[code]}`
  // An https request to a plain-http port: OpenSSL says "wrong version number", Bun EPROTO.
  if (
    code === 'EPROTO' ||
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    /wrong version number/i.test(message)
  ) {
    return 'http: server gave HTTP response to HTTPS client'
  }
  return message
}

// Failures a second attempt can fix; refused connections, unknown hosts and TLS mismatches
// are not retried, so endpoint fallback (https → http, mirror → Hub) happens at once.
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])
const RETRYABLE_MESSAGE =
  /connection (?:lost|reset|closed)|socket hang up|other side closed|terminated|unexpected eof|network/i

/** True when a failed fetch or body read is worth repeating. */
export function isRetryableNetworkError(err: unknown): boolean {
  if ((err as { name?: unknown } | null)?.name === 'TimeoutError') return true
  const code = errorCode(err)
  if (code) return RETRYABLE_CODES.has(code)
  return RETRYABLE_MESSAGE.test(innermostMessage(err))
}
