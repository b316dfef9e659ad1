/**
 * `docker load` (image-api-notes §8.2): the archive is read once as it streams in (blobs go
 * to the store verified, see load-files.ts), then the images it lists are checked
 * (load-verify.ts) and only then recorded and tagged, all under the image store's lock.
 * Whatever fails, nothing is left behind: no record, no tag, and no blob this load stored
 * unless an image holds it (releaseBlobs) — which also drops the parts of an archive no
 * image needs, such as docker's v1 layer JSONs.
 */
import type { InflateLimits } from '../archive/compression.ts'
import type { Digest } from '../oci/digest.ts'
import type { PlatformSpec } from '../oci/platform.ts'
import { canonicalString, familiarString } from '../oci/reference.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageRecord, ImageStore } from '../storage/images.ts'
import { readArchive, type Stored } from './load-files.ts'
import { planItems } from './load-items.ts'
import { verifyItem, type VerifiedImage } from './load-verify.ts'
import { exclusive } from '../storage/lock.ts'
import { releaseBlobs } from './release.ts'

/** What a load reports, in order. */
export type LoadEvent =
  /** A layer this load brought into the store (shown only when not quiet). */
  | { type: 'layer'; diffId: Digest; size: number }
  /** A line for the client, newline included. */
  | { type: 'stream'; text: string }

/** The stores a load writes to. */
export interface LoadDeps {
  blobs: BlobStore
  images: ImageStore
  /** The server's platform: what index-only archives are loaded for. */
  platform: PlatformSpec
}

/** The query of POST /images/load, decoded. */
export interface LoadOptions {
  /** Load only images for this platform. */
  platform?: PlatformSpec
  quiet?: boolean
  signal?: AbortSignal
  /** What a gzip archive may unpack to, and the largest entry it may hold. */
  limits?: InflateLimits
}

/** Loads the archive in `body`; throws (having cleaned up) when anything is wrong with it. */
export async function loadImages(
  body: ReadableStream<Uint8Array>,
  deps: LoadDeps,
  opts: LoadOptions = {}
): Promise<LoadEvent[]> {
  const stored: Stored = new Set()
  try {
    const contents = await readArchive(body, deps.blobs, stored, opts.signal, opts.limits)
    const { items, manifests } = await planItems(contents, deps.blobs, opts.platform ?? deps.platform)
    const ctx = { contents, blobs: deps.blobs, stored, manifests, platform: opts.platform }
    const verified: VerifiedImage[] = []
    for (const item of items) {
      opts.signal?.throwIfAborted()
      const v = await verifyItem(item, ctx)
      if (v) verified.push(v)
    }
    return await exclusive(deps.images, () => commit(verified, deps, stored, opts.quiet ?? true))
  } finally {
    await exclusive(deps.images, () => releaseBlobs(deps, stored)).catch(() => {})
  }
}

// Records and tags every image, or (on a storage failure) puts back what it changed.
async function commit(
  verified: VerifiedImage[],
  deps: LoadDeps,
  stored: Stored,
  quiet: boolean
): Promise<LoadEvent[]> {
  for (const v of verified) {
    for (const d of [v.id, v.manifest.digest, ...v.layers.map((l) => l.digest)]) {
      // An rmi may have freed a shared blob between the read and this lock.
      if (!(await deps.blobs.stat(d))) throw new Error(`blob ${d} was removed while loading`)
    }
  }
  const events: LoadEvent[] = []
  const undo: (() => Promise<unknown>)[] = []
  let ids = ''
  let lastTags = 0
  try {
    for (const v of verified) {
      const existing = await deps.images.getImage(v.id)
      const record: ImageRecord = existing ? { ...existing } : newRecord(v)
      if (v.tags.length) record.lastTagTime = new Date().toISOString()
      await deps.images.putImage(record)
      undo.push(existing ? () => deps.images.putImage(existing) : () => deps.images.deleteImage(v.id))
      if (!quiet) {
        for (const l of v.layers) {
          if (stored.has(l.digest)) events.push({ type: 'layer', diffId: l.diffId, size: l.size })
        }
      }
      ids += `Loaded image ID: ${v.id}\n`
      for (const tag of v.tags) {
        const ref = canonicalString(tag)
        const previous = await deps.images.setTag(ref, v.id)
        undo.push(previous ? () => deps.images.setTag(ref, previous) : () => deps.images.deleteTag(ref))
        if (previous && previous !== v.id) {
          const text = `The image ${familiarString(tag)} already exists, renaming the old one with ID ${previous}`
          events.push({ type: 'stream', text: `${text} to empty string\n` })
        }
        events.push({ type: 'stream', text: `Loaded image: ${familiarString(tag)}\n` })
      }
      lastTags = v.tags.length
    }
  } catch (err) {
    for (const u of undo.reverse()) await u().catch(() => {})
    throw err
  }
  // moby's quirk: the IDs are printed, all at once, only when the last image had no tags.
  if (verified.length && lastTags === 0) events.push({ type: 'stream', text: ids })
  return events
}

function newRecord(v: VerifiedImage): ImageRecord {
  const { architecture, variant } = v.config
  const os = v.config.os || 'linux'
  return {
    id: v.id,
    manifest: v.manifest,
    config: { size: v.configSize, mediaType: v.configMediaType },
    platform: variant ? { os, architecture, variant } : { os, architecture },
    layers: v.layers,
    created: v.config.created ?? new Date(0).toISOString(),
    repoDigests: [],
  }
}
