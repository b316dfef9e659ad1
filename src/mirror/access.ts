/**
 * As whom the mirror asks upstream. The service calls the `Authorize` hook once per request,
 * after resolving the upstream repository and before anything of it is served, cached or not.
 * The default, `callerAccess`, uses the caller's own credentials (Basic, or sealed in a token
 * from `/v2/token`) and falls back to the config's server-wide credentials for the registry.
 * Who may read what is not decided here but by upstream, per caller and repository, even
 * for cached content (clearance.ts).
 */
import type { RegistryConfig } from '../config.ts'
import type { Credentials } from '../registry/auth/credentials.ts'
import { configuredCredentials } from '../registry/endpoints.ts'
import { callerOf } from './caller.ts'
import type { MirrorKind } from './events.ts'
import type { TokenSealer } from './tokens.ts'
import type { Upstream } from './upstream.ts'

/** One request's claim to read from a repository. */
export interface AccessRequest {
  upstream: Upstream
  kind: MirrorKind
  method: string
  /** The caller's request headers (`Authorization`). */
  headers: Headers
}

/**
 * Returns the credentials to use upstream for this request, or throws a MirrorError (401,
 * 403) to refuse it.
 */
export type Authorize = (req: AccessRequest) => Promise<Credentials | undefined>

/** Upstream sees the config's credentials for the registry, if any, whoever calls. */
export const configuredAccess =
  (registries: Record<string, RegistryConfig>): Authorize =>
  async ({ upstream }) =>
    configuredCredentials(upstream.repo.domain, registries)

/**
 * Upstream sees the caller's credentials; anonymous callers get the config's server-wide
 * ones, so they read whatever those may read. A bad token or malformed header is a 401.
 */
export const callerAccess =
  (registries: Record<string, RegistryConfig>, tokens: TokenSealer): Authorize =>
  async ({ upstream, headers }) => {
    const caller = await callerOf(headers, tokens)
    return caller.credentials ?? configuredCredentials(upstream.repo.domain, registries)
  }
