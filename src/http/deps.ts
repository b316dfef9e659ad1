/** What the HTTP layer is built from. Runtime entries assemble it; nothing here is global. */
import type { RegistryConfig } from '../config.ts'
import type { PlatformSpec } from '../oci/platform.ts'
import type { SingleFlight } from '../pull/single-flight.ts'
import type { RegistryClient } from '../registry/client.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageStore } from '../storage/images.ts'

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
  flights: SingleFlight
  runtime: RuntimeInfo
}

export const EDGEPULL_VERSION = '0.1.0'
