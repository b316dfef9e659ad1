/**
 * The Docker token flow (distribution's auth/token spec, image-api-notes §7.4 step 2):
 * `GET <realm>?service=&scope=` with Basic auth and `account=` when a username is known,
 * or an OAuth2 refresh-token POST when the user has an identity token.
 */
import { readBody, SMALL_BODY_LIMIT } from '../body.ts'
import { errorFromResponse } from '../classify.ts'
import type { ClientContext } from '../context.ts'
import { redactUrl, RegistryError, type RequestInfo } from '../errors.ts'
import { sendWithRetry } from '../send.ts'
import { basicAuthorization, type Credentials } from './credentials.ts'
import type { Token } from './token-cache.ts'

/** What a token is asked for. */
export interface TokenParams {
  realm: string
  service?: string
  /** `repository:<path>:pull` and the like; several are separated by spaces. */
  scope: string
  credentials?: Credentials
}

/** The OAuth2 client id sent with refresh-token grants. */
export const CLIENT_ID = 'edgepull'
/** dockerd's floor for a token's lifetime, whatever `expires_in` says. */
export const MIN_TOKEN_SECONDS = 60
// A token request that hangs must not hang the pull with it.
const TOKEN_TIMEOUT_MS = 30_000

/** Gets a token from the realm; `outer` is the registry request it is for (error wording). */
export async function requestToken(
  ctx: ClientContext,
  p: TokenParams,
  outer: RequestInfo
): Promise<Token> {
  if (p.credentials?.identityToken) {
    const res = await sendWithRetry(ctx, () => oauthRequest(p), { outer })
    // Registries without OAuth2 support answer 404/405: fall back to the GET flow.
    if (res.status !== 404 && res.status !== 405)
      return parseTokenResponse(ctx, res, 'POST', p.realm, outer)
    await res.body?.cancel().catch(() => {})
  }
  const url = tokenUrl(p)
  const res = await sendWithRetry(ctx, () => getRequest(url, p.credentials), { outer })
  return parseTokenResponse(ctx, res, 'GET', url, outer)
}

function tokenUrl(p: TokenParams): string {
  const url = new URL(p.realm)
  if (p.service) url.searchParams.set('service', p.service)
  // Several scopes (a cross-repository mount also needs pull on the source) are space-separated
  // in `p.scope`, as in OAuth2; the GET flow sends each as its own `scope` parameter.
  for (const scope of p.scope.split(' ')) url.searchParams.append('scope', scope)
  if (p.credentials?.username) url.searchParams.set('account', p.credentials.username)
  return url.toString()
}

function getRequest(url: string, credentials: Credentials | undefined): Request {
  const headers = new Headers({ accept: 'application/json' })
  const basic = basicAuthorization(credentials)
  if (basic) headers.set('authorization', basic)
  return new Request(url, { headers, signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS) })
}

function oauthRequest(p: TokenParams): Request {
  const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: CLIENT_ID })
  if (p.service) form.set('service', p.service)
  form.set('scope', p.scope)
  form.set('refresh_token', p.credentials!.identityToken!)
  return new Request(p.realm, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: form.toString(),
    signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
  })
}

async function parseTokenResponse(
  ctx: ClientContext,
  res: Response,
  method: string,
  url: string,
  outer: RequestInfo
): Promise<Token> {
  const info = { method, url: redactUrl(url) }
  if (res.status !== 200) throw await errorFromResponse(res, info, outer)
  let body: { token?: unknown; access_token?: unknown; expires_in?: unknown }
  try {
    body = JSON.parse(new TextDecoder().decode(await readBody(res, SMALL_BODY_LIMIT)))
  } catch (err) {
    throw new RegistryError({
      ...info,
      status: 200,
      outer,
      cause: err,
      text: `unable to decode token response: ${(err as Error).message}`,
    })
  }
  const value = [body.token, body.access_token].find((t) => typeof t === 'string' && t) as
    string | undefined
  if (!value) {
    throw new RegistryError({
      ...info,
      status: 200,
      outer,
      text: 'authorization server did not include a token in the response',
    })
  }
  const seconds = typeof body.expires_in === 'number' ? body.expires_in : 0
  return { value, expiresAt: ctx.now() + Math.max(seconds, MIN_TOKEN_SECONDS) * 1000 }
}
