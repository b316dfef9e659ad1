/**
 * The mirror's admin API, behind the config's `adminToken` or `writeToken`
 * (`Authorization: Bearer <token>`) and the write policy (src/http/access.ts: read-only mode,
 * listening beyond loopback), answering 404 on loopback while neither token is configured:
 *
 *   POST   /admin/tags/refresh?ref=busybox:latest   revalidate a tag upstream now
 *   DELETE /admin/tags?ref=busybox:latest           forget a tag; the next pull asks upstream
 *   POST   /admin/verify[?repair=true]              check the whole store (admin-verify.ts)
 *
 * `ref` names the repository as a reference does (`ghcr.io/org/app:v1`, `busybox`); the tag
 * defaults to `latest`. Answers are JSON; errors are `{"message"}`.
 */
import type { Context, Hono } from 'hono'
import { MirrorError } from '../../mirror/errors.ts'
import type { Mirror } from '../../mirror/mirror.ts'
import { upstreamName } from '../../mirror/upstream.ts'
import { canonicalName, InvalidReferenceError, parseNormalizedNamed } from '../../oci/reference.ts'
import { refuseAdmin, type AccessPolicy } from '../access.ts'

const json = (status: number, body: object): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

/** Registers /admin/* on `app`, behind the write policy (src/http/access.ts). */
export function adminRoutes(
  app: Hono,
  mirror: Mirror,
  adminToken: string | undefined,
  access: AccessPolicy = {}
): void {
  app.use('/admin/*', async (c, next) => {
    const refusal = refuseAdmin(access, c.req.header('authorization'), adminToken)
    if (refusal) return refusal
    await next()
  })

  const target = async (c: Context) => {
    const ref = c.req.query('ref')
    if (!ref) throw new MirrorError(400, 'NAME_INVALID', 'query parameter ref is required')
    let parsed
    try {
      parsed = parseNormalizedNamed(ref)
    } catch (err) {
      if (!(err instanceof InvalidReferenceError)) throw err
      throw new MirrorError(400, 'NAME_INVALID', err.message)
    }
    if (parsed.digest) {
      throw new MirrorError(400, 'NAME_INVALID', 'a digest never changes: name a tag')
    }
    const ctx = await mirror.adminContext(canonicalName(parsed))
    return { ctx, tag: parsed.tag ?? 'latest' }
  }
  const guarded = (fn: (c: Context) => Promise<Response>) => async (c: Context) => {
    try {
      return await fn(c)
    } catch (err) {
      if (err instanceof MirrorError) return json(err.status, { message: err.message })
      throw err
    }
  }

  app.post(
    '/admin/tags/refresh',
    guarded(async (c) => {
      const { ctx, tag } = await target(c)
      const a = await mirror.manifests.refresh(ctx, tag)
      const { digest, mediaType, size, outcome } = a
      const repository = upstreamName(ctx.upstream)
      return json(200, { repository, tag, digest, mediaType, size, outcome })
    })
  )
  app.delete(
    '/admin/tags',
    guarded(async (c) => {
      const { ctx, tag } = await target(c)
      const deleted = await mirror.manifests.purge(ctx, tag)
      return json(deleted ? 200 : 404, { repository: upstreamName(ctx.upstream), tag, deleted })
    })
  )
}
