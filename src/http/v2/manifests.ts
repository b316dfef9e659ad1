/**
 * GET/HEAD /v2/<name>/manifests/<tag|digest>: the bytes exactly as upstream served them, with
 * their media type, `Docker-Content-Digest` and length. A tag upstream could not confirm is
 * served stale with `Warning: 110` (RFC 9111's "Response is Stale") and a 299 warning, the
 * code OCI clients show to users.
 */
import type { Hono } from 'hono'
import type { Mirror } from '../../mirror/mirror.ts'
import { upstreamName } from '../../mirror/upstream.ts'
import { staleWarnings, v2Handler } from './handler.ts'

/** Registers the manifest routes. */
export function manifestRoutes(app: Hono, mirror: Mirror): void {
  const handler = v2Handler(mirror, 'manifest', async (c, ctx, head) => {
    const ref = c.req.param('reference')!
    const a = await mirror.manifests.get(ctx, ref, head)
    const headers = new Headers({
      'content-type': a.mediaType,
      'docker-content-digest': a.digest,
      'content-length': String(a.size),
      etag: `"${a.digest}"`,
    })
    const repository = upstreamName(ctx.upstream)
    if (a.stale) staleWarnings(headers, `${repository}${ref.includes(':') ? '@' : ':'}${ref}`)
    if (head || !a.bytes) return { res: new Response(null, { headers }), outcome: a.outcome }
    const { bytes, digest } = a
    const served = bytes.byteLength
    mirror.observe({ type: 'served', kind: 'manifest', repository, digest, bytes: served })
    return { res: new Response(bytes as Uint8Array<ArrayBuffer>, { headers }), outcome: a.outcome }
  })
  app.on(['GET', 'HEAD'], '/v2/:name{.+}/manifests/:reference', handler)
}
