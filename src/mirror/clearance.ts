/**
 * Private stays private. Whatever the mirror serves from its cache, it serves only to callers
 * the upstream would let read the repository, as the upstream says, not as the cache does:
 *
 * - Every upstream exchange that succeeds with a request's credentials vouches for them in
 *   that repository (`vouch`, called by `Core.attempt`) for CONFIRMED_MS. A miss therefore
 *   costs nothing extra: fetching it was the confirmation.
 * - A repository that answered anonymous requests is public (`_access` in the store, so it
 *   survives restarts) and needs no confirmation for PUBLIC_MS; then it is asked again.
 * - Anything else (a hit, a stale answer, joining a fill someone else started) is confirmed
 *   with a HEAD of the very manifest or blob upstream, with the caller's credentials, before
 *   a byte leaves (`clear`). A refusal is a 401; while upstream cannot answer at all, only a
 *   repository once seen public is served (stale), never a private one.
 */
import type { Digest } from '../oci/digest.ts'
import { identityKey } from '../registry/auth/credentials.ts'
import type { RepositoryName } from '../storage/keys.ts'
import { headBlob } from './blobs.ts'
import type { Core, MirrorContext } from './context.ts'
import {
  blobUnknown,
  fromUpstream,
  manifestUnknown,
  MirrorError,
  unauthorized,
  upstreamNotFound,
  upstreamRefused,
  upstreamUnavailable,
} from './errors.ts'
import type { AccessRecord, Links } from './links.ts'
import { upstreamName } from './upstream.ts'

/** How long upstream's word for a caller's credentials in a repository stands. */
export const CONFIRMED_MS = 60_000
/** How long a repository seen public is served to anyone before it is asked again. */
export const PUBLIC_MS = 10 * 60_000
const MAX_ENTRIES = 10_000

/** What is about to be served from the cache. */
export type CacheTarget =
  | { kind: 'manifest'; ref: string }
  | { kind: 'blob'; digest: Digest }
  | { kind: 'tags' }

interface Publicity extends AccessRecord {
  /** When the record was last written to the store (rewritten at most every PUBLIC_MS/2). */
  persistedAt: number
}

/** Bounded memory of what upstream said: callers per repository, public repositories. */
export class Clearances {
  private readonly confirmed = new Map<string, number>()
  private readonly publicity = new Map<string, Publicity>()

  constructor(
    private readonly links: Links,
    private readonly now: () => number
  ) {}

  /** Upstream just let `ctx`'s credentials read from its repository. */
  vouch(ctx: MirrorContext): void {
    const id = identityKey(ctx.credentials)
    bounded(this.confirmed, `${id} ${upstreamName(ctx.upstream)}`, this.now() + CONFIRMED_MS)
    if (id === '') this.record(ctx.upstream.repo, true)
  }

  /** Upstream refused `ctx`'s credentials (or their absence) in its repository. */
  refused(ctx: MirrorContext): void {
    const id = identityKey(ctx.credentials)
    this.confirmed.delete(`${id} ${upstreamName(ctx.upstream)}`)
    if (id === '') this.record(ctx.upstream.repo, false)
  }

  /** True when `ctx` may be served from the cache without asking upstream now. */
  async cleared(ctx: MirrorContext): Promise<boolean> {
    const key = `${identityKey(ctx.credentials)} ${upstreamName(ctx.upstream)}`
    if ((this.confirmed.get(key) ?? 0) > this.now()) return true
    const p = await this.lookup(ctx.upstream.repo)
    return p.public && this.now() - p.checkedAt < PUBLIC_MS
  }

  /** True when anonymous pulls worked when last asked, however long ago. */
  async wasPublic(ctx: MirrorContext): Promise<boolean> {
    return (await this.lookup(ctx.upstream.repo)).public
  }

  private async lookup(repo: RepositoryName): Promise<Publicity> {
    const name = `${repo.domain}/${repo.path}`
    const known = this.publicity.get(name)
    if (known) return known
    const stored = await this.links.getAccess(repo).catch(() => null)
    const p = stored
      ? { ...stored, persistedAt: stored.checkedAt }
      : { public: false, checkedAt: 0, persistedAt: 0 }
    // A vouch may have landed while the store was read: it is newer.
    const raced = this.publicity.get(name)
    if (raced) return raced
    bounded(this.publicity, name, p)
    return p
  }

  private record(repo: RepositoryName, isPublic: boolean): void {
    const name = `${repo.domain}/${repo.path}`
    const now = this.now()
    const prev = this.publicity.get(name)
    const persist = !prev || prev.public !== isPublic || now - prev.persistedAt >= PUBLIC_MS / 2
    bounded(this.publicity, name, {
      public: isPublic,
      checkedAt: now,
      persistedAt: persist ? now : prev!.persistedAt,
    })
    if (persist) this.links.putAccess(repo, { public: isPublic, checkedAt: now }).catch(() => {})
  }
}

function bounded<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key) // re-inserted last: the oldest entries go first
  map.set(key, value)
  if (map.size > MAX_ENTRIES) map.delete(map.keys().next().value!)
}

/**
 * Resolves when `target`, about to be served from the cache, may go to `ctx`'s caller; asks
 * upstream (one HEAD, shared by concurrent callers with the same credentials) unless
 * `Clearances` already knows. Throws the MirrorError to answer with otherwise.
 */
export async function clear(core: Core, ctx: MirrorContext, target: CacheTarget): Promise<void> {
  if (await core.clearances.cleared(ctx)) return
  const what = target.kind === 'manifest' ? target.ref : target.kind === 'blob' ? target.digest : ''
  const key = `clear ${identityKey(ctx.credentials)} ${upstreamName(ctx.upstream)} ${what}`
  try {
    await core.shared.run(key, () => probe(core, ctx, target))
  } catch (err) {
    if (upstreamUnavailable(err) && (await core.clearances.wasPublic(ctx))) return
    throw refusal(err, ctx, target)
  }
}

/** Asks upstream for `target` with `ctx`'s credentials; a success vouches (Core.attempt). */
async function probe(core: Core, ctx: MirrorContext, target: CacheTarget): Promise<void> {
  // One try, no backoff, as for tag revalidation: a dead upstream is known at once.
  const client = core.deps.revalidation
  if (target.kind === 'manifest') {
    await core.attempt(ctx, (repo) => repo.resolve(target.ref), client)
  } else if (target.kind === 'blob') {
    await core.attempt(ctx, (repo) => headBlob(repo, target.digest), client)
  } else {
    await core.attempt(ctx, (repo) => repo.tags({ n: 1 }), client)
  }
}

function refusal(err: unknown, ctx: MirrorContext, target: CacheTarget): MirrorError {
  if (upstreamRefused(err)) return unauthorized()
  if (!upstreamNotFound(err)) return fromUpstream(err)
  if (target.kind === 'manifest') return manifestUnknown(target.ref)
  if (target.kind === 'blob') return blobUnknown(target.digest)
  return new MirrorError(404, 'NAME_UNKNOWN', 'repository name not known to registry', {
    name: ctx.upstream.repo.path,
  })
}
