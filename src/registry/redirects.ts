/**
 * Redirects as Go's http.Client follows them (registries and their blob CDNs are written
 * against it): 301/302/303 turn a request with a body into a GET without one, 307/308 keep
 * method and body, at most 10 hops, and `Authorization` (with cookies) goes only to the
 * original host or its subdomains, so a registry's token never reaches its CDN or beyond.
 */

/** Go's limit: the 11th request is not made. */
export const MAX_REDIRECTS = 10

/** Too many hops, in Go's words. */
export class TooManyRedirectsError extends Error {
  override name = 'TooManyRedirectsError'
  readonly code = 'ERR_TOO_MANY_REDIRECTS'
  constructor() {
    super(`stopped after ${MAX_REDIRECTS} redirects`)
  }
}

// Go's shouldCopyHeaderOnRedirect: these go only to the same domain or a subdomain of it.
const SENSITIVE = ['authorization', 'www-authenticate', 'cookie', 'cookie2']
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language']

const sameOrSubdomain = (host: string, of: string): boolean => host === of || host.endsWith(`.${of}`)

/**
 * The request that follows `res` (an answer to `request`, which began at `initial`), or
 * undefined when `res` is not a redirect to follow: the caller then gets it as it is.
 */
export function followRedirect(request: Request, res: Response, initial: URL): Request | undefined {
  if (![301, 302, 303, 307, 308].includes(res.status)) return undefined
  const location = res.headers.get('location')
  if (!location) return undefined
  let next: URL
  try {
    next = new URL(location, request.url)
  } catch {
    return undefined
  }
  const keepsBody = res.status === 307 || res.status === 308
  const hasBody = request.body !== null
  // The body was a stream and is spent: like Go without GetBody, hand the 307 back.
  if (keepsBody && hasBody) return undefined
  const headers = new Headers(request.headers)
  if (!sameOrSubdomain(next.hostname, initial.hostname)) for (const h of SENSITIVE) headers.delete(h)
  const toGet = !keepsBody && request.method !== 'GET' && request.method !== 'HEAD'
  if (toGet || hasBody) for (const h of BODY_HEADERS) headers.delete(h)
  return new Request(next, {
    method: toGet ? 'GET' : request.method,
    headers,
    signal: request.signal,
    redirect: 'manual',
  })
}
