/**
 * Engine API metadata: image records keyed by image id, and tags (canonical references) that
 * point at image ids. Both are small JSON objects over any driver; the bytes they describe
 * live in the blob store.
 */
import { isDigest, type Digest } from '../oci/digest.ts'
import { StorageError, type StorageDriver } from './driver.ts'
import {
  digestOfMirrorLinkKey,
  ENGINE_TAGS_PREFIX,
  engineTagKey,
  IMAGES_PREFIX,
  idOfImageKey,
  imageKey,
  refOfEngineTagKey,
  REPOSITORIES_PREFIX,
} from './keys.ts'
import { readFully } from './streams.ts'

/** One layer of an image, as the Engine API reports it. */
export interface LayerRecord {
  digest: Digest
  size: number
  mediaType: string
  /** Digest of the uncompressed tar, from the config's rootfs.diff_ids. */
  diffId: Digest
}

/** Everything the Engine API says about a pulled image, without re-reading its blobs. */
export interface ImageRecord {
  /** Config digest = Docker image ID. */
  id: Digest
  /** The platform manifest. */
  manifest: { digest: Digest; mediaType: string; size: number }
  /** The index the manifest was chosen from, when pulled via one. */
  index?: { digest: Digest; mediaType: string; size: number }
  config: { size: number; mediaType: string }
  platform: { os: string; architecture: string; variant?: string }
  /** Bottom layer first. */
  layers: LayerRecord[]
  /** From the config. */
  created: string
  /** Canonical, e.g. `docker.io/library/busybox@sha256:…`. */
  repoDigests: string[]
  lastTagTime?: string
}

/** Image records and Engine tags. Refs are canonical strings, opaque to the store. */
export interface ImageStore {
  getImage(id: Digest): Promise<ImageRecord | null>
  /** Creates or replaces the record for `rec.id`. */
  putImage(rec: ImageRecord): Promise<void>
  /** True when the record was there; tags pointing at it are the caller's business. */
  deleteImage(id: Digest): Promise<boolean>
  listImages(): AsyncIterable<ImageRecord>
  /** Points `ref` at `id`; resolves to the id it pointed at before, or null. */
  setTag(ref: string, id: Digest): Promise<Digest | null>
  getTag(ref: string): Promise<Digest | null>
  /** True when the tag was there. */
  deleteTag(ref: string): Promise<boolean>
  listTags(): AsyncIterable<{ ref: string; id: Digest }>
  /** Blobs the /v2 mirror links from a repository (layer or manifest links): not rmi's to free. */
  mirrorLinks(): AsyncIterable<Digest>
}

// Records stay far below this; the cap only bounds what a corrupted store can make us read.
const MAX_RECORD = 4 << 20

/** Creates the image store over `driver`. */
export function createImageStore(driver: StorageDriver): ImageStore {
  async function readJson(key: string): Promise<Record<string, unknown> | null> {
    const o = await driver.get(key)
    if (!o) return null
    const text = new TextDecoder().decode(await readFully(o.body, MAX_RECORD, key))
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      value = undefined
    }
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return value as Record<string, unknown>
    }
    throw new StorageError(`${driver.name}: ${key} does not hold a JSON object`)
  }

  const writeJson = (key: string, value: unknown) => {
    const bytes = new TextEncoder().encode(JSON.stringify(value))
    return driver.put(key, bytes, { size: bytes.byteLength })
  }

  async function getImage(id: Digest): Promise<ImageRecord | null> {
    const key = imageKey(id)
    const rec = await readJson(key)
    if (rec && rec.id !== id) throw new StorageError(`${driver.name}: ${key} holds ${rec.id}`)
    return rec as ImageRecord | null
  }

  async function readTag(key: string): Promise<Digest | null> {
    const link = await readJson(key)
    if (!link) return null
    const id = String(link.id)
    if (!isDigest(id)) throw new StorageError(`${driver.name}: ${key} holds no image id`)
    return id
  }

  return {
    getImage,

    async putImage(rec) {
      await writeJson(imageKey(rec.id), rec)
    },

    deleteImage: (id) => driver.delete(imageKey(id)),

    async *listImages() {
      for await (const key of driver.list(IMAGES_PREFIX)) {
        const id = idOfImageKey(key)
        // Deleted since it was listed: skip rather than fail the whole listing.
        const rec = id && (await getImage(id))
        if (rec) yield rec
      }
    },

    async setTag(ref, id) {
      if (!isDigest(id)) throw new StorageError(`not an image id: ${id}`)
      const previous = await readTag(engineTagKey(ref))
      if (previous !== id) await writeJson(engineTagKey(ref), { id })
      return previous
    },

    getTag: (ref) => readTag(engineTagKey(ref)),

    deleteTag: (ref) => driver.delete(engineTagKey(ref)),

    async *listTags() {
      for await (const key of driver.list(ENGINE_TAGS_PREFIX)) {
        const ref = refOfEngineTagKey(key)
        const id = ref === null ? null : await readTag(key)
        if (ref !== null && id) yield { ref, id }
      }
    },

    async *mirrorLinks() {
      for await (const key of driver.list(REPOSITORIES_PREFIX)) {
        const digest = digestOfMirrorLinkKey(key)
        if (digest) yield digest
      }
    },
  }
}
