/**
 * The last step of a pull: the image record, written under the store lock with every blob
 * it needs present.
 */
import type { Digest } from '../oci/digest.ts'
import type { Descriptor, ImageConfig, ImageManifest } from '../oci/manifest.ts'
import { canonicalName, type Reference } from '../oci/reference.ts'
import type { RepositoryClient } from '../registry/client.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageRecord } from '../storage/images.ts'
import { exclusive } from '../storage/lock.ts'
import { PullError } from './errors.ts'
import { blobSource } from './layers.ts'
import type { PullDeps } from './pull.ts'
import type { Fetched } from './resolve.ts'

/**
 * Records the image and moves the tag under the store lock that rmi, prune and eviction
 * take, after checking that every blob is still there: a layer that was `Already exists`
 * when the pull began may have been deleted since. Missing blobs are fetched again.
 */
export async function commitImage(
  deps: PullDeps,
  record: ImageRecord,
  tagRef: string | undefined,
  manifests: Fetched[],
  manifest: ImageManifest,
  repo: RepositoryClient,
  signal?: AbortSignal
): Promise<Digest | null> {
  const needed = [manifest.config, ...manifest.layers]
  for (let attempt = 1; ; attempt++) {
    const missing = await exclusive(deps.images, async () => {
      const gone = await missingBlobs(deps.blobs, needed)
      if (gone.length) return gone
      for (const m of manifests) await deps.blobs.put(m.digest, m.bytes, m.bytes.byteLength, signal)
      await deps.images.putImage(record)
      return tagRef ? await deps.images.setTag(tagRef, record.id) : record.id
    })
    if (!Array.isArray(missing)) return missing
    if (attempt === 3) throw new PullError(500, `blobs keep disappearing from the store: ${missing.map((d) => d.digest).join(', ')}`)
    for (const d of missing) await deps.fills.fetch(d.digest, blobSource(repo, d.digest, d.size), { signal })
  }
}

export async function missingBlobs(blobs: BlobStore, descs: Descriptor[]): Promise<Descriptor[]> {
  const out: Descriptor[] = []
  for (const d of descs) if (!(await blobs.stat(d.digest))) out.push(d)
  return out
}

export function imageRecord(
  ref: Reference,
  top: Fetched,
  chosen: Fetched,
  manifest: ImageManifest,
  config: ImageConfig,
  existing: ImageRecord | null | undefined
): ImageRecord {
  const repoDigest = `${canonicalName(ref)}@${top.digest}`
  const repoDigests = [...new Set([...(existing?.repoDigests ?? []), repoDigest])]
  const diffIds = config.rootfs.diff_ids
  return {
    id: manifest.config.digest,
    manifest: { digest: chosen.digest, mediaType: chosen.mediaType, size: chosen.bytes.byteLength },
    index: top === chosen ? undefined : { digest: top.digest, mediaType: top.mediaType, size: top.bytes.byteLength },
    config: { size: manifest.config.size, mediaType: manifest.config.mediaType },
    platform: { os: config.os, architecture: config.architecture, variant: config.variant },
    layers: manifest.layers.map((l, i) => ({
      digest: l.digest,
      size: l.size,
      mediaType: l.mediaType,
      diffId: diffIds[i] as Digest,
    })),
    created: config.created ?? new Date(0).toISOString(),
    repoDigests,
    lastTagTime: existing?.lastTagTime,
  }
}
