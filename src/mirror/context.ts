/**
 * What the mirror's services are built from and share: dependencies, the per-repository
 * links, the tag TTLs, in-flight de-duplication, what upstream said about who may read what
 * (clearance.ts), and the loop over upstream endpoints.
 */
import type { MirrorConfig, RegistryConfig } from '../config.ts'
import type { Fills } from '../pull/fills.ts'
import { identityKey, type Credentials } from '../registry/auth/credentials.ts'
import type { RegistryClient, RepositoryClient } from '../registry/client.ts'
import { shouldFallback } from '../registry/endpoints.ts'
import { RegistryError } from '../registry/errors.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { StorageDriver } from '../storage/driver.ts'
import type { Authorize } from './access.ts'
import { Clearances } from './clearance.ts'
import { upstreamRefused } from './errors.ts'
import type { MirrorObserver } from './events.ts'
import { createLinks, type Links } from './links.ts'
import { Shared } from './shared.ts'
import { tagTtl, type TagTtl } from './ttl.ts'
import { upstreamName, type Upstream } from './upstream.ts'

/** What `createMirror` needs. */
export interface MirrorDeps {
  driver: StorageDriver
  blobs: BlobStore
  /** The same fills as the Engine API's pulls, so both share upstream downloads. */
  fills: Fills
  registry: RegistryClient
  /** For tag revalidation: one try, no backoff, so a dead upstream means stale at once. */
  revalidation?: RegistryClient
  registries: Record<string, RegistryConfig>
  config: MirrorConfig
  /**
   * Whose credentials go upstream; `callerAccess` when absent (the caller's own, else the
   * config's server-wide ones).
   */
  authorize?: Authorize
  /** Seals the tokens `/v2/token` issues (the config's `tokenSecret`); random when absent. */
  tokenSecret?: string
  observe?: MirrorObserver
  /** Milliseconds since the epoch (tests move time). */
  now?: () => number
}

/** One request's upstream repository and the credentials to use there. */
export interface MirrorContext {
  readonly upstream: Upstream
  readonly credentials?: Credentials
}

/**
 * The key that de-duplicates work per upstream repository and caller identity: concurrent
 * requests with other credentials get their own upstream answer, so one caller's refusal is
 * never another's.
 */
export const keyOfRepo = (ctx: MirrorContext): string =>
  `${upstreamName(ctx.upstream)} ${identityKey(ctx.credentials)}`

/** The internals every service shares. */
export interface Core {
  readonly deps: MirrorDeps
  readonly links: Links
  readonly ttl: TagTtl
  readonly shared: Shared
  readonly clearances: Clearances
  now(): number
  observe: MirrorObserver
  /**
   * Runs `fn` against each endpoint of the upstream in turn until one answers or the error
   * is not worth another endpoint (dockerd's rule). Reports the final failure. A success
   * vouches for the context's credentials in its repository; a refusal withdraws that.
   */
  attempt<T>(
    ctx: MirrorContext,
    fn: (repo: RepositoryClient) => Promise<T>,
    client?: RegistryClient
  ): Promise<T>
}

/** Builds the shared internals. */
export function createCore(deps: MirrorDeps): Core {
  const observe = deps.observe ?? (() => {})
  const links = createLinks(deps.driver)
  const now = deps.now ?? Date.now
  const clearances = new Clearances(links, now)
  return {
    deps,
    links,
    ttl: tagTtl(deps.config),
    shared: new Shared(),
    clearances,
    now,
    observe,
    async attempt(ctx, fn, client = deps.registry) {
      const { endpoints, repo } = ctx.upstream
      let last: unknown
      for (const [i, endpoint] of endpoints.entries()) {
        const r = client.repository(endpoint, repo.path, { credentials: ctx.credentials })
        try {
          const result = await fn(r)
          clearances.vouch(ctx)
          return result
        } catch (err) {
          last = err
          if (upstreamRefused(err)) clearances.refused(ctx)
          if (!shouldFallback(err, endpoint, endpoints[i + 1])) break
        }
      }
      const e = last instanceof RegistryError ? last : undefined
      observe({
        type: 'upstream-error',
        repository: upstreamName(ctx.upstream),
        status: e?.status,
        code: e?.code,
      })
      throw last
    },
  }
}
