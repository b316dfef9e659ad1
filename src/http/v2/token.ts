/**
 * `/v2/token`, the token endpoint this mirror's challenges name (distribution's token spec):
 *
 *   GET  /v2/token?service=edgepull&scope=…&account=…   Basic credentials optional
 *   POST /v2/token   OAuth2 form: grant_type=password (containerd) or refresh_token (dockerd
 *                    with an identity token from `docker login`)
 *
 * Without credentials the token is anonymous, which is all public images need, so clients
 * that hold none pull as before. With credentials the token carries them sealed
 * (src/mirror/tokens.ts) for the mirror to use upstream. `scope`, `service` and `account` are
 * accepted but not needed: upstream decides, per repository, what the credentials may read,
 * so they are checked when used rather than here.
 */
import type { Context, Hono } from 'hono'
import type { Mirror } from '../../mirror/mirror.ts'
import type { Credentials } from '../../registry/auth/credentials.ts'
import { readFully } from '../../storage/streams.ts'
import { asMirrorError, ociErrorResponse } from './errors.ts'

const answer = (body: object, status = 200): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  })

/** Registers GET and POST /v2/token. */
export function tokenRoutes(app: Hono, mirror: Mirror): void {
  const issue = async (credentials: Credentials | undefined, scope?: string) => {
    const t = await mirror.issueToken(credentials)
    const body: Record<string, unknown> = {
      token: t.token,
      access_token: t.token,
      expires_in: t.expiresIn,
      issued_at: t.issuedAt,
    }
    if (scope) body.scope = scope
    return answer(body)
  }

  app.get('/v2/token', async (c) => {
    try {
      return await issue((await mirror.caller(c.req.raw.headers)).credentials)
    } catch (err) {
      return ociErrorResponse(asMirrorError(err))
    }
  })

  app.post('/v2/token', async (c) => {
    const form = await formOf(c)
    if (!form) return answer({ error: 'invalid_request' }, 400)
    const grant = form.get('grant_type')
    const scope = form.get('scope') ?? undefined
    if (grant === 'password') {
      const username = form.get('username')
      if (!username) return answer({ error: 'invalid_request' }, 400)
      return issue({ username, password: form.get('password') ?? '' }, scope)
    }
    if (grant === 'refresh_token') {
      const refresh = form.get('refresh_token')
      if (!refresh) return answer({ error: 'invalid_request' }, 400)
      return issue({ identityToken: refresh }, scope)
    }
    return answer({ error: 'unsupported_grant_type' }, 400)
  })
}

// A grant is a few hundred bytes; anything much larger is not one.
const MAX_FORM = 16 * 1024

async function formOf(c: Context): Promise<URLSearchParams | null> {
  const type = c.req.header('content-type') ?? ''
  const body = c.req.raw.body
  if (!body || !type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return null
  try {
    return new URLSearchParams(new TextDecoder().decode(await readFully(body, MAX_FORM, 'form')))
  } catch {
    return null
  }
}
