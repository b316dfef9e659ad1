/**
 * The mirror and what surrounds it, built from the config: the fills it shares with the
 * Engine API's pulls, the metrics both feed, and eviction when `mirror.maxBytes` is set. All
 * of them hear the same events: `Fills` reports through the mirror's observer seam.
 */
import type { FileConfig } from '../config.ts'
import { Fills, type FillsOptions } from '../pull/fills.ts'
import type { RegistryClient } from '../registry/client.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { StorageDriver } from '../storage/driver.ts'
import type { ImageStore } from '../storage/images.ts'
import type { MirrorObserver } from './events.ts'
import { createEviction, type Eviction } from './eviction.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { createMirror, type Mirror } from './mirror.ts'

/** What `createMirrorStack` needs. */
export interface MirrorStackOptions {
  config: Pick<FileConfig, 'registries' | 'mirror' | 'tokenSecret'>
  driver: StorageDriver
  blobs: BlobStore
  /** The image store the Engine API uses (eviction takes its lock and keeps its images). */
  images: ImageStore
  registry: RegistryClient
  /** The one-try client for tag revalidation and access checks. */
  revalidation?: RegistryClient
  /** How fills keep memory and outlive responses (the Workers entry sets both). */
  fills?: FillsOptions
  now?: () => number
}

/** The built pieces. */
export interface MirrorStack {
  fills: Fills
  mirror: Mirror
  metrics: Metrics
  /** Present when the config sets `mirror.maxBytes`; already started. */
  eviction?: Eviction
}

/** Builds the mirror, its fills, metrics and eviction. */
export function createMirrorStack(o: MirrorStackOptions): MirrorStack {
  const { config, driver, blobs } = o
  const metrics = createMetrics()
  let eviction: Eviction | undefined
  const observe: MirrorObserver = (e) => {
    metrics.observe(e)
    eviction?.observe(e)
  }
  const fills = new Fills(driver, {
    ...o.fills,
    observe: (event) => {
      o.fills?.observe?.(event)
      observe({ type: 'fill', event })
    },
  })
  const mirror = createMirror({
    driver,
    blobs,
    fills,
    registry: o.registry,
    revalidation: o.revalidation,
    registries: config.registries,
    config: config.mirror,
    tokenSecret: config.tokenSecret,
    observe,
    now: o.now,
  })
  const { maxBytes, evictionGraceSeconds } = config.mirror
  if (maxBytes !== undefined) {
    eviction = createEviction({
      driver,
      blobs,
      images: o.images,
      fills,
      maxBytes,
      graceMs: evictionGraceSeconds === undefined ? undefined : evictionGraceSeconds * 1000,
      now: o.now,
      keepAlive: o.fills?.keepAlive,
    })
    metrics.register(...eviction.families)
    eviction.start()
  }
  return { fills, mirror, metrics, eviction }
}
