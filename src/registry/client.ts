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
import { withTimeouts, type Timeouts } from './timeouts.ts'
import {
  blobExists,
  mountBlob,
  putManifest,
  uploadBlob,
  type MountResult,
  type UploadOptions,
} from './upload.ts'
import { listPage, strings, type Catalog, type ListOptions, type TagList } from './listing.ts'

/** How the client reaches registries. */
export interface RegistryClientOptions {
  /** Every request goes through this; `globalThis.fetch` on all four runtimes. */
  fetch: Fetch
  /** Sent as `User-Agent` (default `edgepull`). */
  userAgent?: string
  retry?: RetryOptions
  /** Upstream headers and idle-body timeouts (default 30 s and 60 s; see timeouts.ts). */
  timeouts?: Timeouts
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

/** Reads from (and pushes to) one repository on one endpoint. */
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
  /** True when the repository has the blob (HEAD); push skips it then. */
  hasBlob(digest: Digest, signal?: AbortSignal): Promise<boolean>
  /**
   * Cross-repository mount from `from` (a path on the same registry); the token asked for
   * also carries pull on `from`. A declined mount hands back an upload session.
   */
  mountBlob(digest: Digest, from: string, signal?: AbortSignal): Promise<MountResult>
  /** Uploads a blob: one PUT when small, PATCH chunks then PUT when large. */
  uploadBlob(
    digest: Digest,
    size: number,
    open: () => Promise<ReadableStream<Uint8Array>>,
    opts?: UploadOptions
  ): Promise<void>
  /** PUTs manifest bytes as they are under `ref`; returns their digest. */
  putManifest(ref: string, bytes: Uint8Array, mediaType: string, signal?: AbortSignal): Promise<Digest>
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
    fetch: withTimeouts(withUserAgent(opts.fetch, opts.userAgent ?? 'edgepull'), opts.timeouts),
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
      const scopeText = `repository:${path}:${actions}`
      const scope: RepositoryScope = {
        ctx,
        session: session({ ...endpoint, url }, scopeText, o.credentials),
        base: `${url}/v2/${path}`,
        path,
      }
      // A mount needs pull on the source repository too, in the same token (distribution's
      // client adds it for requests carrying `from`).
      const withPullOn = (from: string): RepositoryScope => ({
        ...scope,
        session: session({ ...endpoint, url }, `${scopeText} repository:${from}:pull`, o.credentials),
      })
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
        hasBlob: (digest, signal) => blobExists(scope, digest, signal),
        mountBlob: (digest, from, signal) => mountBlob(withPullOn(from), digest, from, signal),
        uploadBlob: (digest, size, open, uo) => uploadBlob(scope, digest, size, open, uo),
        putManifest: (ref, bytes, mediaType, signal) => putManifest(scope, ref, bytes, mediaType, signal),
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
