/**
 * GET/HEAD /v2/<name>/blobs/<digest>, with single `Range` requests on hits and misses alike:
 * a miss answers as soon as upstream has, and a range of it as soon as those bytes arrived.
 */
import type { Hono } from 'hono'
import { fromUpstream, MirrorError } from '../../mirror/errors.ts'
import type { Mirror } from '../../mirror/mirror.ts'
import { upstreamName } from '../../mirror/upstream.ts'
import type { Digest } from '../../oci/digest.ts'
import { counted, primed } from './body.ts'
import { v2Handler } from './handler.ts'
import { contentRange, parseRange } from './range.ts'

const fail = (err: unknown): never => {
  throw fromUpstream(err)
}

/** Registers the blob routes. */
export function blobRoutes(app: Hono, mirror: Mirror): void {
  const handler = v2Handler(mirror, 'blob', async (c, ctx, head) => {
    const digest = c.req.param('digest')! as Digest
    const a = await mirror.blobs.get(ctx, digest, head)
    const repository = upstreamName(ctx.upstream)
    const served = async (body: Promise<ReadableStream<Uint8Array>>) => {
      const stream = await primed(await body).catch(fail)
      mirror.observe({ type: 'serving', kind: 'blob', repository, digest })
      return counted(stream, (bytes) =>
        mirror.observe({ type: 'served', kind: 'blob', repository, digest, bytes })
      )
    }
    const headers = new Headers({
      'content-type': 'application/octet-stream',
      'docker-content-digest': digest,
      etag: `"${digest}"`,
    })
    const { outcome } = a
    if (a.size === undefined) {
      // Upstream declared no length: the whole blob, chunked; a Range cannot be resolved.
      return { res: new Response(head ? null : await served(a.open()), { headers }), outcome }
    }
    headers.set('accept-ranges', 'bytes')
    const range = head ? undefined : parseRange(c.req.header('range'), a.size)
    if (range === 'unsatisfiable') {
      const unsatisfiable = { 'content-range': `bytes */${a.size}` }
      const message = 'requested range not satisfiable'
      throw new MirrorError(416, 'RANGE_INVALID', message, { size: a.size }, unsatisfiable)
    }
    if (!range) {
      headers.set('content-length', String(a.size))
      return { res: new Response(head ? null : await served(a.open()), { headers }), outcome }
    }
    headers.set('content-length', String(range.length))
    headers.set('content-range', contentRange(range, a.size))
    return { res: new Response(await served(a.open(range)), { status: 206, headers }), outcome }
  })
  app.on(['GET', 'HEAD'], '/v2/:name{.+}/blobs/:digest', handler)
}
