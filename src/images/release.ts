/**
 * Freeing an image's blobs once its record is gone. Blobs are shared: busybox's layer is the
 * bottom of other images, an index covers several platform records, and the /v2 mirror links
 * what it served. A blob goes only when no remaining record holds it and no mirror link does.
 */
import type { Digest } from '../oci/digest.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageRecord, ImageStore } from '../storage/images.ts'
import { isLeased } from '../storage/lock.ts'

/** Every blob a record holds: config, manifest, index and layers. */
export function blobsOf(rec: ImageRecord): Digest[] {
  const out = [rec.id, rec.manifest.digest, ...rec.layers.map((l) => l.digest)]
  if (rec.index) out.push(rec.index.digest)
  return out
}

/**
 * Deletes those `candidates` nothing holds any more (no record, mirror link or lease) and
 * returns the bytes that freed. Call it after the record is deleted, under the store's lock
 * (lock.ts).
 */
export async function releaseBlobs(
  deps: { images: ImageStore; blobs: BlobStore },
  candidates: Iterable<Digest>
): Promise<number> {
  const orphans = new Set([...candidates].filter((d) => !isLeased(deps.blobs, d)))
  if (orphans.size === 0) return 0
  for await (const rec of deps.images.listImages()) {
    for (const d of blobsOf(rec)) orphans.delete(d)
  }
  if (orphans.size > 0) {
    for await (const d of deps.images.mirrorLinks()) orphans.delete(d)
  }
  let freed = 0
  for (const d of orphans) {
    const info = await deps.blobs.stat(d)
    if (info && (await deps.blobs.delete(d))) freed += info.size
  }
  return freed
}
