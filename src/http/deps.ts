/** What the HTTP layer is built from. Runtime entries assemble it; nothing here is global. */
import type { RegistryConfig } from '../config.ts'
import type { Metrics } from '../mirror/metrics.ts'
import type { Mirror } from '../mirror/mirror.ts'
import type { PlatformSpec } from '../oci/platform.ts'
import type { Fills } from '../pull/fills.ts'
import type { RegistryClient } from '../registry/client.ts'
import type { Fetch } from '../registry/fetch.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageStore } from '../storage/images.ts'
import type { StoreVerifier } from '../storage/verify.ts'
import type { AccessPolicy } from './access.ts'
import type { DocsAssets } from './docs.ts'
import type { BodyLimits } from './engine/body-limit.ts'
import type { ClientAddress, RateLimitOptions } from './rate-limit.ts'

export interface RuntimeInfo {
  /** `node`, `bun`, `deno`, `workerd`. */
  name: string
  version: string
  os: string
  arch: string
}

export interface AppDeps {
  blobs: BlobStore
  images: ImageStore
  registry: RegistryClient
  registries: Record<string, RegistryConfig>
  platform: PlatformSpec
  maxConcurrentDownloads: number
  /** Blob fills in flight, shared by pulls and the mirror (one upstream GET per blob). */
  fills: Fills
  /** The /v2 pull-through mirror over the same store and fills. */
  mirror: Mirror
  /** Enables /admin/* (the config's `adminToken`). */
  adminToken?: string
  /** The store verifier behind POST /admin/verify. */
  verify?: StoreVerifier
  /** Served at /metrics (Prometheus); absent, /metrics answers 404. */
  metrics?: Metrics
  runtime: RuntimeInfo
  /** Plain upstream fetch for APIs beside the registry client (Docker Hub's search). */
  fetch?: Fetch
  /** Swagger UI's files for `/docs`, supplied by the runtime entry; absent, `/docs` explains. */
  docsAssets?: DocsAssets
  /** Request body caps (the config's `limits`); absent, the config's defaults (limitsOf). */
  limits?: BodyLimits
  /** Who may use the write routes (writeToken, read-only, listening beyond loopback). */
  access?: AccessPolicy
  /** Per-client rate limit; absent, none. */
  rateLimit?: RateLimitOptions
  /** The client's address as the runtime saw it (the rate limit's key). */
  clientAddress?: ClientAddress
  /** Take the client from X-Forwarded-For (the config's `trustProxy`). */
  trustProxy?: boolean
}

export const EDGEPULL_VERSION = '0.1.0'
