/** What every part of one registry client shares: transport, policy, clock and caches. */
import type { Challenge } from './auth/challenge.ts'
import type { AuthSession } from './auth/session.ts'
import type { TokenCache } from './auth/token-cache.ts'
import type { Fetch, Sleep } from './fetch.ts'
import type { RetryPolicy } from './retry.ts'

/** Built once by `createRegistryClient`, passed down to sessions and requests. */
export interface ClientContext {
  /** The injected fetch, already wrapped with the user agent. */
  readonly fetch: Fetch
  readonly sleep: Sleep
  readonly retry: RetryPolicy
  /** Milliseconds since the epoch; injectable so token expiry can be tested. */
  readonly now: () => number
  /** `/v2/` ping results per endpoint URL (challenges do not depend on who asks). */
  readonly pings: Map<string, Promise<Challenge[]>>
  readonly tokens: TokenCache
}

/** One repository on one endpoint, as one identity: what manifest and blob calls need. */
export interface RepositoryScope {
  readonly ctx: ClientContext
  readonly session: AuthSession
  /** `<endpoint>/v2/<path>`, the prefix of every repository URL. */
  readonly base: string
  readonly path: string
}
