/**
 * Content-addressed blobs over any driver: every put is verified against its digest (and size
 * when known), so whatever the store holds under a digest is that digest's bytes.
 */
import { DigestMismatchError, sha256, Sha256Counter, type Digest } from '../oci/digest.ts'
import { StorageError, type ByteRange, type StorageDriver } from './driver.ts'
import { BLOBS_PREFIX, blobKey, digestOfBlobKey, uploadKey } from './keys.ts'
import { readFully } from './streams.ts'

/** What the store knows about a blob without reading it. */
export interface BlobInfo {
  readonly digest: Digest
  readonly size: number
  /** Last write time, ms since the epoch. */
  readonly modified: number
}

/** A blob being read: the whole blob, or the range that was asked for. */
export interface BlobBody {
  readonly info: BlobInfo
  readonly range: ByteRange
  readonly body: ReadableStream<Uint8Array>
}

/** Layers, configs, manifests and indexes, addressed by their sha256. */
export interface BlobStore {
  stat(digest: Digest): Promise<BlobInfo | null>
  /** `range` must lie within the blob (callers resolve Range headers first). */
  get(digest: Digest, range?: ByteRange): Promise<BlobBody | null>
  /**
   * Stores `body` under `digest` once it proved to hash to it (and to be `size` bytes, which
   * drivers such as R2 need up front for streams). Rejects with DigestMismatchError otherwise.
   */
  put(
    digest: Digest,
    body: ReadableStream<Uint8Array> | Uint8Array,
    size?: number,
    signal?: AbortSignal
  ): Promise<BlobInfo>
  /**
   * Stores a stream whose digest is only known once it has been read (an import compressed
   * on the fly): staged under `uploads/` while it is hashed, then copied under its digest
   * with the usual verification. Drivers have no rename (R2 has none), hence the copy.
   */
  putComputed(body: ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<BlobInfo>
  /**
   * Reads a small blob (manifest, config) whole, re-checking its digest; null when absent.
   * Throws StorageError when it is larger than `maxBytes`.
   */
  bytes(digest: Digest, maxBytes: number): Promise<Uint8Array | null>
  /** True when the blob was there. */
  delete(digest: Digest): Promise<boolean>
  /** Every stored blob, in no particular order. */
  list(): AsyncIterable<Digest>
}

/** Creates the blob store over `driver`. */
export function createBlobStore(driver: StorageDriver): BlobStore {
  const infoOf = (digest: Digest, o: { size: number; modified: number }): BlobInfo => ({
    digest,
    size: o.size,
    modified: o.modified,
  })

  return {
    async stat(digest) {
      const o = await driver.stat(blobKey(digest))
      return o && infoOf(digest, o)
    },

    async get(digest, range) {
      const o = await driver.get(blobKey(digest), range)
      return o && { info: infoOf(digest, o.info), range: o.range, body: o.body }
    },

    async put(digest, body, size, signal) {
      const key = blobKey(digest)
      if (size === undefined && body instanceof Uint8Array) size = body.byteLength
      return infoOf(digest, await driver.put(key, body, { sha256: digest, size, signal }))
    },

    async putComputed(body, signal) {
      const staging = uploadKey(crypto.randomUUID())
      const hash = new Sha256Counter()
      const hashed = body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            hash.update(chunk)
            controller.enqueue(chunk)
          },
        })
      )
      try {
        await driver.put(staging, hashed, { signal })
        const digest = hash.digest()
        const key = blobKey(digest)
        const present = await driver.stat(key)
        if (present?.size === hash.size) return infoOf(digest, present)
        const staged = await driver.get(staging)
        if (!staged) throw new StorageError(`${staging} vanished while being stored`)
        const opts = { sha256: digest, size: hash.size, signal }
        return infoOf(digest, await driver.put(key, staged.body, opts))
      } finally {
        await driver.delete(staging).catch(() => {})
      }
    },

    async bytes(digest, maxBytes) {
      const o = await driver.get(blobKey(digest))
      if (!o) return null
      if (o.info.size > maxBytes) {
        void o.body.cancel().catch(() => {})
        throw new StorageError(`${digest} is larger than ${maxBytes} bytes`)
      }
      const bytes = await readFully(o.body, maxBytes, digest)
      // Cheap for small blobs, and it keeps a corrupted file from being served as a manifest.
      const actual = sha256(bytes)
      if (actual !== digest) throw new DigestMismatchError(digest, actual)
      return bytes
    },

    delete: (digest) => driver.delete(blobKey(digest)),

    async *list() {
      for await (const key of driver.list(BLOBS_PREFIX)) {
        const d = digestOfBlobKey(key)
        if (d) yield d
      }
    },
  }
}
