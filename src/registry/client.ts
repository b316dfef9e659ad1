/**
 * The upstream registry client: `createRegistryClient({ fetch })` once per process, then
 * `client.repository(endpoint, path, { credentials })` per pull. Repositories share the
 * client's `/v2/` pings and token cache, and one auth session per (endpoint, scope,
 * identity), so pulling many blobs costs one handshake.
 */
import type { Digest } from '../oci/digest.ts'
import { identityKey, type Credentials } from './auth/credentials.ts'
import { AuthSession } from './auth/session.ts'
import { TokenCache } from './auth/token-cache.ts'
import { blobResponse, openBlob, type BlobOptions, type BlobResponseOptions } from './blobs.ts'
import type { ClientContext, RepositoryScope } from './context.ts'
import type { Endpoint } from './endpoints.ts'
import { sleep as defaultSleep, withUserAgent, type Fetch, type Sleep } from './fetch.ts'
import {
  fetchManifest,
  resolveManifest,
  type FetchedManifest,
  type ResolvedManifest,
} from './manifests.ts'
import { retryPolicy, type RetryOptions } from './retry.ts'
import { listPage, strings, type Catalog, type ListOptions, type TagList } from './listing.ts'

/** How the client reaches registries. */
export interface RegistryClientOptions {
  /** Every request goes through this; `globalThis.fetch` on all four runtimes. */
  fetch: Fetch
  /** Sent as `User-Agent` (default `edgepull`). */
  userAgent?: string
  retry?: RetryOptions
  /** Injectable so tests do not wait out backoffs. */
  sleep?: Sleep
  /** Clock for token expiry (ms since the epoch). */
  now?: () => number
}

/** Who is asking, and for what. */
export interface RepositoryOptions {
  credentials?: Credentials
  /** Token scope actions (default `['pull']`). */
  actions?: string[]
}

/** Reads from one repository on one endpoint. */
export interface RepositoryClient {
  readonly endpoint: Endpoint
  readonly path: string
  /** Digest, media type and size of a tag or digest (HEAD, falling back to GET). */
  resolve(ref: string, signal?: AbortSignal): Promise<ResolvedManifest>
  /** The manifest or index bytes; throws `UnsupportedManifestError` for schema 1. */
  manifest(ref: string, signal?: AbortSignal): Promise<FetchedManifest>
  /** The blob as a verified, resuming stream (errors at the end on a mismatch). */
  blob(digest: Digest, opts?: BlobOptions): Promise<ReadableStream<Uint8Array>>
  /** The raw upstream response for the blob, for pass-through. */
  blobResponse(digest: Digest, opts?: BlobResponseOptions): Promise<Response>
  /** One page of tags. */
  tags(opts?: ListOptions): Promise<TagList>
}

/** The entry point: one per process (or per Worker isolate). */
export interface RegistryClient {
  repository(endpoint: Endpoint, path: string, opts?: RepositoryOptions): RepositoryClient
  /** One page of the registry's catalog (scope `registry:catalog:*`). */
  catalog(endpoint: Endpoint, opts?: ListOptions & { credentials?: Credentials }): Promise<Catalog>
}

// Sessions are small, but a long-running proxy meets many (repository, user) pairs.
const MAX_SESSIONS = 4096

/** Builds a registry client over `opts.fetch`. */
export function createRegistryClient(opts: RegistryClientOptions): RegistryClient {
  const now = opts.now ?? Date.now
  const ctx: ClientContext = {
    fetch: withUserAgent(opts.fetch, opts.userAgent ?? 'edgepull'),
    sleep: opts.sleep ?? defaultSleep,
    retry: retryPolicy(opts.retry),
    now,
    pings: new Map(),
    tokens: new TokenCache(now),
  }
  const sessions = new Map<string, AuthSession>()

  function session(
    endpoint: Endpoint,
    scope: string,
    credentials: Credentials | undefined
  ): AuthSession {
    const key = [endpoint.url, scope, identityKey(credentials)].join(' ')
    let s = sessions.get(key)
    if (!s) {
      s = new AuthSession(ctx, endpoint, scope, credentials)
      sessions.set(key, s)
      if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value!)
    }
    return s
  }

  return {
    repository(endpoint, path, o = {}) {
      const url = endpoint.url.replace(/\/+$/, '')
      const actions = (o.actions ?? ['pull']).join(',')
      const scope: RepositoryScope = {
        ctx,
        session: session({ ...endpoint, url }, `repository:${path}:${actions}`, o.credentials),
        base: `${url}/v2/${path}`,
        path,
      }
      return {
        endpoint,
        path,
        resolve: (ref, signal) => resolveManifest(scope, ref, signal),
        manifest: (ref, signal) => fetchManifest(scope, ref, signal),
        blob: (digest, bo) => openBlob(scope, digest, bo),
        blobResponse: (digest, bo) => blobResponse(scope, digest, bo),
        async tags(lo = {}) {
          const { json, next } = await listPage(ctx, scope.session, `${scope.base}/tags/list`, lo)
          const list = {
            name: typeof json.name === 'string' ? json.name : path,
            tags: strings(json.tags),
          }
          return next ? { ...list, next } : list
        },
      }
    },
    async catalog(endpoint, o = {}) {
      const url = endpoint.url.replace(/\/+$/, '')
      const s = session({ ...endpoint, url }, 'registry:catalog:*', o.credentials)
      const { json, next } = await listPage(ctx, s, `${url}/v2/_catalog`, o)
      const list = { repositories: strings(json.repositories) }
      return next ? { ...list, next } : list
    },
  }
}
