/**
 * Images built in a memory store, for unit tests of the image service: real blobs (config,
 * manifest, layers) and records, the way a pull leaves them, without a registry.
 */
import { sha256, type Digest } from '../../src/oci/digest.ts'
import { createBlobStore, type BlobStore } from '../../src/storage/blobs.ts'
import type { StorageDriver } from '../../src/storage/driver.ts'
import { createImageStore, type ImageRecord, type ImageStore } from '../../src/storage/images.ts'
import { createMemoryDriver } from '../../src/storage/memory.ts'

/** The stores an image service function takes, over one driver. */
export interface Stores {
  driver: StorageDriver
  images: ImageStore
  blobs: BlobStore
}

/** An empty memory store. */
export function memoryStores(): Stores {
  const driver = createMemoryDriver()
  return { driver, images: createImageStore(driver), blobs: createBlobStore(driver) }
}

/** What addImage builds. */
export interface FakeImage {
  /** Layer contents, bottom first; equal contents share a blob. */
  layers: string[]
  /** Merged into the config (`config` merges into the runtime config). */
  config?: Record<string, unknown>
  /** Canonical tags, e.g. `docker.io/library/busybox:latest`. */
  tags?: string[]
  /** Repository names (canonical) that get a digest reference to the manifest. */
  digestRepos?: string[]
  /** An index digest the record says it was pulled through. */
  index?: Digest
  platform?: { os: string; architecture: string; variant?: string }
}

const enc = new TextEncoder()
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const CONFIG = 'application/vnd.oci.image.config.v1+json'
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip'
const INDEX = 'application/vnd.oci.image.index.v1+json'

/** Stores an image as a pull would: blobs, record, tags. */
export async function addImage(s: Stores, img: FakeImage): Promise<ImageRecord> {
  const layers = []
  for (const content of img.layers) {
    const bytes = enc.encode(content)
    const digest = sha256(bytes)
    await s.blobs.put(digest, bytes)
    layers.push({ digest, size: bytes.byteLength, diffId: sha256(`diff:${content}`) })
  }
  const { config: runtime = {}, ...extra } = img.config ?? {}
  const platform = img.platform ?? { os: 'linux', architecture: 'amd64' }
  const config = {
    created: '2023-11-14T22:13:20Z',
    ...platform,
    config: { Env: ['PATH=/bin'], Cmd: ['sh'], ...(runtime as object) },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created: '2023-11-14T22:13:20Z', created_by: `layer ${i}` })),
    ...extra,
  }
  const configBytes = enc.encode(JSON.stringify(config))
  const id = sha256(configBytes)
  await s.blobs.put(id, configBytes)
  const manifest = enc.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { mediaType: CONFIG, digest: id, size: configBytes.byteLength },
      layers: layers.map((l) => ({ mediaType: LAYER, digest: l.digest, size: l.size })),
    })
  )
  const manifestDigest = sha256(manifest)
  await s.blobs.put(manifestDigest, manifest)
  const top = img.index ?? manifestDigest
  const rec: ImageRecord = {
    id,
    manifest: { digest: manifestDigest, mediaType: MANIFEST, size: manifest.byteLength },
    ...(img.index && { index: { digest: img.index, mediaType: INDEX, size: 1 } }),
    config: { size: configBytes.byteLength, mediaType: CONFIG },
    platform,
    layers: layers.map((l) => ({ ...l, mediaType: LAYER })),
    created: String(config.created),
    repoDigests: (img.digestRepos ?? []).map((repo) => `${repo}@${top}`),
  }
  await s.images.putImage(rec)
  for (const tag of img.tags ?? []) await s.images.setTag(tag, id)
  return rec
}

/** Stores arbitrary bytes as a blob (an index, say) and returns its digest. */
export async function addBlob(s: Stores, content: string): Promise<Digest> {
  const bytes = enc.encode(content)
  const digest = sha256(bytes)
  await s.blobs.put(digest, bytes)
  return digest
}

/** Every blob in the store. */
export async function blobList(s: Stores): Promise<Set<Digest>> {
  const out = new Set<Digest>()
  for await (const d of s.blobs.list()) out.add(d)
  return out
}
