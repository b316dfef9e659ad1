/**
 * Who may read what through the mirror, and as whom the mirror asks upstream. The service
 * calls the `Authorize` hook once per request, after resolving the upstream repository and
 * before anything of it is served, cached or not. The default lets everyone read and uses the
 * config's server-wide credentials; a stricter hook (caller credentials, per-repository
 * confirmation upstream, a token endpoint for docker/containerd logins) replaces it without
 * touching the service.
 */
import type { RegistryConfig } from '../config.ts'
import type { Credentials } from '../registry/auth/credentials.ts'
import { configuredCredentials } from '../registry/endpoints.ts'
import type { MirrorKind } from './events.ts'
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
 * Returns the credentials to use upstream for this request, or throws a MirrorError (401 with
 * a `WWW-Authenticate` header, 403) to refuse it.
 */
export type Authorize = (req: AccessRequest) => Promise<Credentials | undefined>

/** Everyone may read; upstream sees the config's credentials for the registry, if any. */
export const configuredAccess =
  (registries: Record<string, RegistryConfig>): Authorize =>
  async ({ upstream }) =>
    configuredCredentials(upstream.repo.domain, registries)
