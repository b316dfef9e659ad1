/**
 * Builds the app from a config, a storage driver and a fetch: the part every runtime entry
 * shares. Entries add only what is theirs (which driver, which fetch, how to listen).
 */
import type { FileConfig } from '../config.ts'
import type { DocsAssets } from '../http/docs.ts'
import { createApp } from '../http/app.ts'
import type { RuntimeInfo } from '../http/deps.ts'
import { createMirror } from '../mirror/mirror.ts'
import { parsePlatform } from '../oci/platform.ts'
import { Fills } from '../pull/fills.ts'
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
}

export function assemble({ config, driver, fetch, runtime, docsAssets }: AssembleOptions) {
  const userAgent = `edgepull/0.1.0 (${runtime.name} ${runtime.version})`
  const blobs = createBlobStore(driver)
  const registry = createRegistryClient({ fetch, userAgent })
  const fills = new Fills(driver)
  const mirror = createMirror({
    driver,
    blobs,
    fills,
    registry,
    // Tag revalidation tries once: a dead upstream means a stale answer now, not in seconds.
    revalidation: createRegistryClient({ fetch, userAgent, retry: { attempts: 1 } }),
    registries: config.registries,
    config: config.mirror,
  })
  return createApp({
    blobs,
    images: createImageStore(driver),
    registry,
    fills,
    mirror,
    adminToken: config.adminToken,
    registries: config.registries,
    platform: parsePlatform(config.platform),
    maxConcurrentDownloads: config.maxConcurrentDownloads,
    runtime,
    fetch,
    docsAssets,
  })
}
