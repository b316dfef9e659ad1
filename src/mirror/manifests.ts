/**
 * Manifests through the mirror. By digest they are immutable: once a repository is known to
 * hold one, it is served from the store forever. A tag is served from its link until its TTL
 * runs out, then revalidated with a HEAD upstream (which Docker Hub does not count against
 * pull limits); when upstream cannot answer (down, 5xx, 429) the cached manifest is served
 * stale. Concurrent requests for the same tag or digest share one upstream exchange.
 */
import { isDigest, parseDigest, DigestError, type Digest } from '../oci/digest.ts'
import { isValidTag } from '../oci/reference.ts'
import type { FetchedManifest } from '../registry/manifests.ts'
import { keyOfRepo, type Core, type MirrorContext } from './context.ts'
import {
  digestInvalid,
  MirrorError,
  fromUpstream,
  manifestUnknown,
  upstreamNotFound,
  upstreamUnavailable,
} from './errors.ts'
import type { MirrorOutcome } from './events.ts'
import type { TagLink } from './links.ts'
import { upstreamName } from './upstream.ts'

/** The manifest a request gets. */
export interface ManifestAnswer {
  digest: Digest
  mediaType: string
  size: number
  /** Exactly as upstream served them; absent for HEAD answered from the cache. */
  bytes?: Uint8Array
  outcome: MirrorOutcome
  /** Set when served stale: why upstream could not confirm the tag. */
  stale?: string
}

/** What a tag resolved to, shared by the requests that waited on the same exchange. */
interface Resolved {
  link: Omit<TagLink, 'checkedAt'>
  bytes?: Uint8Array
  outcome: MirrorOutcome
  stale?: string
}

const MAX_MANIFEST = 4 * 1024 * 1024

/** The manifest service. */
export interface ManifestService {
  /** `ref` is a tag or a digest; `head` skips reading the bytes when they are cached. */
  get(ctx: MirrorContext, ref: string, head: boolean): Promise<ManifestAnswer>
  /** Revalidates a tag now, whatever its TTL (the admin route). */
  refresh(ctx: MirrorContext, tag: string): Promise<ManifestAnswer>
  /** Forgets a tag; true when it was cached. */
  purge(ctx: MirrorContext, tag: string): Promise<boolean>
}

/** Creates the manifest service over the mirror's core. */
export function manifestService(core: Core): ManifestService {
  const { links, shared } = core
  const { blobs } = core.deps

  async function answer(r: Resolved, head: boolean): Promise<ManifestAnswer> {
    const { digest, mediaType, size } = r.link
    let bytes = r.bytes
    if (!head && !bytes) {
      bytes = (await blobs.bytes(digest, MAX_MANIFEST)) ?? undefined
      if (!bytes) throw manifestUnknown(digest) // evicted between lookup and read
    }
    const a: ManifestAnswer = { digest, mediaType, size, outcome: r.outcome }
    if (!head) a.bytes = bytes
    if (r.stale) a.stale = r.stale
    return a
  }

  /** GETs `ref` upstream, stores the bytes and the revision (and the tag link for tags). */
  async function fetchAndStore(ctx: MirrorContext, ref: string, tag?: string): Promise<Resolved> {
    let m: FetchedManifest
    try {
      m = await core.attempt(ctx, (repo) => repo.manifest(ref))
    } catch (err) {
      throw upstreamNotFound(err) ? manifestUnknown(tag ?? ref) : fromUpstream(err)
    }
    const link = { digest: m.digest, mediaType: m.mediaType, size: m.bytes.byteLength }
    await blobs.put(m.digest, m.bytes)
    const rev = { mediaType: m.mediaType, size: link.size }
    await links.putRevision(ctx.upstream.repo, m.digest, rev)
    const repository = upstreamName(ctx.upstream)
    const bytes = link.size
    core.observe({ type: 'fetched', kind: 'manifest', repository, digest: m.digest, bytes })
    if (tag) await links.putTag(ctx.upstream.repo, tag, { ...link, checkedAt: core.now() })
    return { link, bytes: m.bytes, outcome: 'miss' }
  }

  async function byDigest(ctx: MirrorContext, digest: Digest): Promise<Resolved> {
    const repo = ctx.upstream.repo
    const [rev, present] = await Promise.all([links.getRevision(repo, digest), blobs.stat(digest)])
    if (rev && present) return { link: { digest, ...rev }, outcome: 'hit' }
    return shared.run(`m ${keyOfRepo(ctx)}@${digest}`, async () => {
      if (!present) return fetchAndStore(ctx, digest)
      // Stored through another repository: upstream must confirm this one has it too.
      let resolved
      try {
        resolved = await core.attempt(ctx, (r) => r.resolve(digest))
      } catch (err) {
        throw upstreamNotFound(err) ? manifestUnknown(digest) : fromUpstream(err)
      }
      const rev = { mediaType: resolved.mediaType, size: resolved.size }
      await links.putRevision(repo, digest, rev)
      return { link: { digest, ...rev }, outcome: 'revalidated' as const }
    })
  }

  /** HEADs the tag upstream and moves the link if it changed; stale when upstream fails. */
  async function revalidate(
    ctx: MirrorContext,
    tag: string,
    link: TagLink | null
  ): Promise<Resolved> {
    const repo = ctx.upstream.repo
    let digest: Digest
    try {
      const client = core.deps.revalidation
      digest = (await core.attempt(ctx, (r) => r.resolve(tag), client)).digest
    } catch (err) {
      if (link && upstreamUnavailable(err)) return staleAnswer(link, err)
      if (upstreamNotFound(err)) {
        await links.deleteTag(repo, tag)
        throw manifestUnknown(tag)
      }
      throw fromUpstream(err)
    }
    if (link && digest === link.digest) {
      await links.putTag(repo, tag, { ...link, checkedAt: core.now() })
      return { link, outcome: 'revalidated' }
    }
    try {
      const fresh = await byDigest(ctx, digest)
      await links.putTag(repo, tag, { ...fresh.link, checkedAt: core.now() })
      return { ...fresh, outcome: 'miss' }
    } catch (err) {
      if (link && upstreamUnavailable((err as Error).cause)) return staleAnswer(link, err)
      throw err
    }
  }

  async function byTag(ctx: MirrorContext, tag: string, force: boolean): Promise<Resolved> {
    const repo = ctx.upstream.repo
    const link = await links.getTag(repo, tag)
    const present = link !== null && (await blobs.stat(link.digest)) !== null
    if (present && !force && core.now() - link.checkedAt < core.ttl(repo, tag)) {
      return { link, outcome: 'hit' }
    }
    const key = `t ${keyOfRepo(ctx)}:${tag}${force ? ' !' : ''}`
    return shared.run(key, () =>
      present ? revalidate(ctx, tag, link) : fetchAndStore(ctx, tag, tag)
    )
  }

  const parseRef = (ref: string): Digest | string => {
    if (!ref.includes(':')) {
      if (!isValidTag(ref)) throw manifestUnknown(ref)
      return ref
    }
    try {
      return parseDigest(ref)
    } catch (err) {
      if (err instanceof DigestError) throw digestInvalid(ref, err.message)
      throw err
    }
  }

  return {
    async get(ctx, ref, head) {
      const r = parseRef(ref)
      const resolved = isDigest(r) ? await byDigest(ctx, r) : await byTag(ctx, r, false)
      return answer(resolved, head)
    },
    async refresh(ctx, tag) {
      if (!isValidTag(tag)) throw manifestUnknown(tag)
      const resolved = await byTag(ctx, tag, true)
      if (resolved.stale) {
        const why = `upstream could not confirm ${tag}: ${resolved.stale}`
        throw new MirrorError(502, 'UNAVAILABLE', why)
      }
      return answer(resolved, true)
    },
    purge: (ctx, tag) => links.deleteTag(ctx.upstream.repo, tag),
  }
}

function staleAnswer(link: TagLink, err: unknown): Resolved {
  const why = err instanceof Error ? err.message : String(err)
  return { link, outcome: 'stale', stale: why }
}
