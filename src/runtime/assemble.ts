/**
 * Builds the app from a config, a storage driver and a fetch: the part every runtime entry
 * shares. Entries add only what is theirs (which driver, which fetch, how to listen).
 */
import type { FileConfig } from '../config.ts'
import type { DocsAssets } from '../http/docs.ts'
import { createApp } from '../http/app.ts'
import type { RuntimeInfo } from '../http/deps.ts'
import type { ClientAddress } from '../http/rate-limit.ts'
import { createMirrorStack } from '../mirror/stack.ts'
import { parsePlatform } from '../oci/platform.ts'
import type { FillsOptions } from '../pull/fills.ts'
import { createRegistryClient } from '../registry/client.ts'
import { isLoopbackHost } from '../registry/hosts.ts'
import type { Fetch } from '../registry/fetch.ts'
import { withNetworkGuard, type Resolve } from '../registry/network-guard.ts'
import { networkPolicy } from '../registry/network-policy.ts'
import { createBlobStore } from '../storage/blobs.ts'
import type { StorageDriver } from '../storage/driver.ts'
import { createImageStore } from '../storage/images.ts'
import { verifyStore } from '../storage/verify.ts'

export interface AssembleOptions {
  config: FileConfig
  driver: StorageDriver
  /** Every upstream request goes through it, behind the network guard (no SSRF). */
  fetch: Fetch
  /** Resolves names for the guard (Bun, Deno); Node checks at connect time instead. */
  resolve?: Resolve
  runtime: RuntimeInfo
  /** Swagger UI's files for `/docs` (see src/runtime/docs-assets.ts). */
  docsAssets?: DocsAssets
  /** How fills keep memory and outlive responses (the Workers entry sets both). */
  fills?: FillsOptions
  /** Listening beyond loopback (see `isExposed`): write routes then need the writeToken. */
  exposed?: boolean
  /** The client's address as the runtime saw it, for the rate limit. */
  clientAddress?: ClientAddress
}

/** Whether `host` (the listening address) is reachable from beyond this machine. */
export const isExposed = (host: string): boolean => !isLoopbackHost(host)

/** What an entry prints at start when anyone who reaches it could write, or nobody can. */
export function exposureWarning(config: FileConfig, exposed: boolean): string | undefined {
  if (!exposed || config.writeToken || config.readOnly) return undefined
  return (
    'edgepull: warning: listening beyond loopback without a writeToken, so pull, import, ' +
    'load, push, tag, delete, prune, commit and /admin answer 403; set writeToken in the ' +
    'config (or EDGEPULL_WRITE_TOKEN), or readOnly: true for a public mirror'
  )
}

/** Where upstream requests may go: public hosts, the configured registries, privateHosts. */
export const upstreamPolicy = (config: FileConfig) =>
  networkPolicy(config.registries, config.upstream.privateHosts)

export function assemble({
  config,
  driver,
  fetch: unguarded,
  resolve,
  runtime,
  docsAssets,
  fills: fillsOptions,
  exposed = false,
  clientAddress,
}: AssembleOptions) {
  const userAgent = `edgepull/0.1.0 (${runtime.name} ${runtime.version})`
  const fetch = withNetworkGuard(unguarded, upstreamPolicy(config), { resolve })
  const blobs = createBlobStore(driver)
  const up = config.upstream
  const ms = (seconds: number | undefined) => (seconds === undefined ? undefined : seconds * 1000)
  const timeouts = { headersMs: ms(up.headersTimeoutSeconds), idleMs: ms(up.idleTimeoutSeconds) }
  const registry = createRegistryClient({ fetch, userAgent, timeouts })
  // One image store object: eviction takes the lock the Engine API's writers take on it.
  const images = createImageStore(driver)
  const { fills, mirror, metrics } = createMirrorStack({
    config,
    driver,
    blobs,
    images,
    registry,
    // Tag revalidation tries once: a dead upstream means a stale answer now, not in seconds.
    revalidation: createRegistryClient({ fetch, userAgent, timeouts, retry: { attempts: 1 } }),
    fills: fillsOptions,
  })
  return createApp({
    blobs,
    images,
    // Repairs take the lock the Engine API's writers take on this same image store.
    verify: ({ repair }) => verifyStore(driver, { repair, images }),
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
    limits: config.limits,
    access: { writeToken: config.writeToken, readOnly: config.readOnly, exposed },
    rateLimit: config.rateLimit,
    clientAddress,
    trustProxy: config.trustProxy,
  })
}
