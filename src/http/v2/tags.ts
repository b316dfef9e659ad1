/** GET /v2/<name>/tags/list with `n` and `last`, and the next page in `Link`. */
import type { Hono } from 'hono'
import type { Mirror } from '../../mirror/mirror.ts'
import { upstreamName } from '../../mirror/upstream.ts'
import { staleWarnings, v2Handler } from './handler.ts'

/** `n` as a count, or undefined when absent or not a non-negative integer. */
const count = (v: string | undefined): number | undefined => {
  if (v === undefined || !/^\d+$/.test(v)) return undefined
  const n = Number(v)
  return Number.isSafeInteger(n) ? n : undefined
}

/** Registers the tag-list route. */
export function tagRoutes(app: Hono, mirror: Mirror): void {
  const handler = v2Handler(mirror, 'tags', async (c, ctx, head) => {
    const name = c.req.param('name')!
    const n = count(c.req.query('n'))
    const last = c.req.query('last') || undefined
    const a = await mirror.tags.list(ctx, { n, last })
    const body = JSON.stringify({ name, tags: a.tags })
    const headers = new Headers({
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(new TextEncoder().encode(body).byteLength),
    })
    if (a.next) {
      const q = new URLSearchParams()
      if (a.next.n !== undefined) q.set('n', String(a.next.n))
      q.set('last', a.next.last)
      const ns = c.req.query('ns')
      if (ns) q.set('ns', ns)
      headers.set('link', `</v2/${name}/tags/list?${q}>; rel="next"`)
    }
    if (a.stale) staleWarnings(headers, `tag list of ${upstreamName(ctx.upstream)}`)
    return { res: new Response(head ? null : body, { headers }), outcome: a.outcome }
  })
  app.on(['GET', 'HEAD'], '/v2/:name{.+}/tags/list', handler)
}
