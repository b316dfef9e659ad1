/**
 * Builds the app from a config, a storage driver and a fetch: the part every runtime entry
 * shares. Entries add only what is theirs (which driver, which fetch, how to listen).
 */
import type { FileConfig } from '../config.ts'
import { createApp } from '../http/app.ts'
import type { RuntimeInfo } from '../http/deps.ts'
import { parsePlatform } from '../oci/platform.ts'
import { SingleFlight } from '../pull/single-flight.ts'
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
}

export function assemble({ config, driver, fetch, runtime }: AssembleOptions) {
  return createApp({
    blobs: createBlobStore(driver),
    images: createImageStore(driver),
    registry: createRegistryClient({ fetch, userAgent: `edgepull/0.1.0 (${runtime.name} ${runtime.version})` }),
    registries: config.registries,
    platform: parsePlatform(config.platform),
    maxConcurrentDownloads: config.maxConcurrentDownloads,
    flights: new SingleFlight(),
    runtime,
  })
}
