/**
 * Builds the app from a config, a storage driver and a fetch: the part every runtime entry
 * shares. Entries add only what is theirs (which driver, which fetch, how to listen).
 */
import type { FileConfig } from '../config.ts'
import type { DocsAssets } from '../http/docs.ts'
import { createApp } from '../http/app.ts'
import type { RuntimeInfo } from '../http/deps.ts'
import { createMirrorStack } from '../mirror/stack.ts'
import { parsePlatform } from '../oci/platform.ts'
import type { FillsOptions } from '../pull/fills.ts'
import { createRegistryClient } from '../registry/client.ts'
import type { Fetch } from '../registry/fetch.ts'
import { createBlobStore } from '../storage/blobs.ts'
import type { StorageDriver } from '../storage/driver.ts'
import { createImageStore } from '../storage/images.ts'

export interface AssembleOptions {
  config: FileConfig
  driver: StorageDriver
  fetch: Fetch
  runtime: RuntimeInfo
  /** Swagger UI's files for `/docs` (see src/runtime/docs-assets.ts). */
  docsAssets?: DocsAssets
  /** How fills keep memory and outlive responses (the Workers entry sets both). */
  fills?: FillsOptions
}

export function assemble({
  config,
  driver,
  fetch,
  runtime,
  docsAssets,
  fills: fillsOptions,
}: AssembleOptions) {
  const userAgent = `edgepull/0.1.0 (${runtime.name} ${runtime.version})`
  const blobs = createBlobStore(driver)
  const registry = createRegistryClient({ fetch, userAgent })
  // One image store object: eviction takes the lock the Engine API's writers take on it.
  const images = createImageStore(driver)
  const { fills, mirror, metrics } = createMirrorStack({
    config,
    driver,
    blobs,
    images,
    registry,
    // Tag revalidation tries once: a dead upstream means a stale answer now, not in seconds.
    revalidation: createRegistryClient({ fetch, userAgent, retry: { attempts: 1 } }),
    fills: fillsOptions,
  })
  return createApp({
    blobs,
    images,
    registry,
    fills,
    mirror,
    metrics,
    adminToken: config.adminToken,
    registries: config.registries,
    platform: parsePlatform(config.platform),
    maxConcurrentDownloads: config.maxConcurrentDownloads,
    runtime,
    fetch,
    docsAssets,
  })
}
