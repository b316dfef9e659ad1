/**
 * The frame every /v2 read shares: resolve the repository and run the access hook, call the
 * service, report the outcome to the mirror's observer, and answer failures with the OCI
 * envelope (a 401 with this mirror's token challenge). HEAD is told apart here, so no handler
 * opens a body it would drop.
 */
import type { Context, Handler } from 'hono'
import type { MirrorOutcome, MirrorKind } from '../../mirror/events.ts'
import type { Mirror, MirrorContext } from '../../mirror/mirror.ts'
import { upstreamName } from '../../mirror/upstream.ts'
import { challenged } from './challenge.ts'
import { asMirrorError, ociErrorResponse } from './errors.ts'

/** What a handler returns: the response and how it was answered. */
export interface Answered {
  res: Response
  outcome: MirrorOutcome
}

/** Builds the handler for one kind of /v2 read. */
export function v2Handler(
  mirror: Mirror,
  kind: MirrorKind,
  serve: (c: Context, ctx: MirrorContext, head: boolean) => Promise<Answered>
): Handler {
  return async (c) => {
    const method = c.req.method
    const head = method === 'HEAD'
    const name = c.req.param('name') ?? ''
    let repository = name
    try {
      const ctx = await mirror.context({
        name,
        ns: c.req.query('ns'),
        kind,
        method,
        headers: c.req.raw.headers,
      })
      repository = upstreamName(ctx.upstream)
      const { res, outcome } = await serve(c, ctx, head)
      mirror.observe({ type: 'request', kind, method, repository, outcome, status: res.status })
      return res
    } catch (err) {
      const e = asMirrorError(err)
      if (e.status === 500) console.error(`${method} ${c.req.path}:`, err)
      mirror.observe({ type: 'request', kind, method, repository, status: e.status })
      return ociErrorResponse(challenged(e, c.req.raw, name), head)
    }
  }
}

/**
 * The Warning headers of a stale answer: 110 for HTTP caches, and 299, the only code the OCI
 * spec lets registries send, which clients show to users.
 */
export function staleWarnings(headers: Headers, what: string): void {
  headers.append('warning', '110 - "Response is Stale"')
  headers.append('warning', `299 - "upstream unavailable: serving the cached ${what}"`)
}
