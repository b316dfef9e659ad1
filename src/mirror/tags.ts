/**
 * Tag lists through the mirror: asked upstream (a list changes whenever anyone pushes), with
 * `n` and `last` passed on; when upstream cannot answer, the tags this mirror has cached for
 * the repository, paginated the same way and marked stale.
 */
import type { Core, MirrorContext } from './context.ts'
import { fromUpstream, MirrorError, upstreamNotFound, upstreamUnavailable } from './errors.ts'
import type { MirrorOutcome } from './events.ts'

/** One page of tags. */
export interface TagsAnswer {
  tags: string[]
  /** Where the next page starts, when there is one. */
  next?: { last: string; n?: number }
  outcome: MirrorOutcome
  stale?: string
}

/** The tag-list service. */
export interface TagService {
  list(ctx: MirrorContext, page: { n?: number; last?: string }): Promise<TagsAnswer>
}

/** Creates the tag-list service over the mirror's core. */
export function tagService(core: Core): TagService {
  return {
    async list(ctx, page) {
      try {
        const t = await core.attempt(ctx, (repo) => repo.tags(page))
        // Registries that ignore n and last (distribution 2.8) get them applied here.
        const a: TagsAnswer = { ...paginate(t.tags, page), outcome: 'passthrough' }
        if (t.next) a.next = t.next
        return a
      } catch (err) {
        if (upstreamNotFound(err)) {
          throw new MirrorError(404, 'NAME_UNKNOWN', 'repository name not known to registry', {
            name: ctx.upstream.repo.path,
          })
        }
        if (!upstreamUnavailable(err)) throw fromUpstream(err)
        const cached = await core.links.listTags(ctx.upstream.repo)
        if (cached.length === 0) throw fromUpstream(err)
        return { ...paginate(cached, page), outcome: 'stale', stale: (err as Error).message }
      }
    },
  }
}

/** One page of sorted `tags`: those after `last`, at most `n`, and where the next starts. */
function paginate(
  tags: string[],
  page: { n?: number; last?: string }
): Pick<TagsAnswer, 'tags' | 'next'> {
  const after = page.last === undefined ? tags : tags.filter((t) => t > page.last!)
  if (page.n === undefined || after.length <= page.n) return { tags: after }
  const cut = after.slice(0, page.n)
  return page.n > 0 ? { tags: cut, next: { last: cut.at(-1)!, n: page.n } } : { tags: cut }
}
