/**
 * Writing a new local image (import, commit): the config blob, a manifest so the image can
 * be pushed and saved like a pulled one, and the Engine record. Layers must already be in
 * the blob store; tagging is tag.ts's.
 */
import { sha256, type Digest } from '../oci/digest.ts'
import { MediaType } from '../oci/media-types.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageRecord, ImageStore, LayerRecord } from '../storage/images.ts'
import { exclusive } from '../storage/lock.ts'

/** What a new image is made of. */
export interface NewImage {
  /** The image config as a JSON object; its bytes' digest becomes the image ID. */
  config: Record<string, unknown> & {
    os: string
    architecture: string
    variant?: string
    created: string
  }
  /** Bottom layer first, each already stored. */
  layers: LayerRecord[]
  /** Defaults to Docker's schema 2 types, which is what dockerd writes on push. */
  manifestMediaType?: string
  configMediaType?: string
  /** Top-level manifest fields to keep (annotations…) from the image this one derives from. */
  manifestExtras?: Record<string, unknown>
}

const utf8 = new TextEncoder()

/** Stores config, manifest and record; returns the record (id = config digest). */
export async function writeImage(
  blobs: BlobStore,
  images: ImageStore,
  img: NewImage
): Promise<ImageRecord> {
  const configBytes = utf8.encode(JSON.stringify(img.config))
  const id = sha256(configBytes)
  const configMediaType = img.configMediaType ?? MediaType.dockerConfig
  const manifestMediaType = img.manifestMediaType ?? MediaType.dockerManifest
  const manifest = {
    ...img.manifestExtras,
    schemaVersion: 2,
    mediaType: manifestMediaType,
    config: { mediaType: configMediaType, size: configBytes.byteLength, digest: id },
    layers: img.layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
  }
  const manifestBytes = utf8.encode(JSON.stringify(manifest))
  const manifestDigest = sha256(manifestBytes)
  await blobs.put(id, configBytes)
  await blobs.put(manifestDigest, manifestBytes)
  const { os, architecture, variant } = img.config
  const record: ImageRecord = {
    id,
    manifest: {
      digest: manifestDigest,
      mediaType: manifestMediaType,
      size: manifestBytes.byteLength,
    },
    config: { size: configBytes.byteLength, mediaType: configMediaType },
    platform: variant ? { os, architecture, variant } : { os, architecture },
    layers: img.layers,
    created: img.config.created,
    repoDigests: [],
  }
  return exclusive(images, async () => {
    // The same bytes again (same config, same second): keep what is known about the image.
    const existing = await images.getImage(id)
    const merged = existing
      ? { ...record, repoDigests: existing.repoDigests, lastTagTime: existing.lastTagTime }
      : record
    await images.putImage(merged)
    return merged
  })
}

/** Adds `repo@digest` to an image's RepoDigests (after a push), keeping the record current. */
export function addRepoDigest(images: ImageStore, id: Digest, repoDigest: string): Promise<void> {
  return exclusive(images, async () => {
    const record = await images.getImage(id)
    if (!record || record.repoDigests.includes(repoDigest)) return
    await images.putImage({ ...record, repoDigests: [...record.repoDigests, repoDigest] })
  })
}
