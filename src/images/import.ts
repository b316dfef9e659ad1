/**
 * `docker import`: a root file system tar (plain or gzip) becomes a one-layer image. The body
 * is read once: decompressed if needed (within the limits), hashed for the DiffID, checked to
 * be a whole and safe tar (tar-check.ts), gzip-compressed again and stored under the
 * compressed digest learnt on the way.
 */
import {
  CompressedDataError,
  decompressed,
  InflateLimitError,
  MAGIC_LENGTH,
  peek,
  UnsupportedCompressionError,
  type InflateLimits,
} from '../archive/compression.ts'
import { Sha256Counter, type Digest } from '../oci/digest.ts'
import type { ContainerConfig } from '../oci/manifest.ts'
import { MediaType } from '../oci/media-types.ts'
import type { PlatformSpec } from '../oci/platform.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageRecord, ImageStore } from '../storage/images.ts'
import { applyChanges } from './changes.ts'
import { ImageError } from './errors.ts'
import { tarCheck } from './tar-check.ts'
import { writeImage } from './write.ts'

/** How the imported image is described. */
export interface ImportOptions {
  platform: PlatformSpec
  /** The comment on the config and its one history entry. */
  message: string
  /** Dockerfile instructions for the runtime config (CMD, ENV…). */
  changes: readonly string[]
  signal?: AbortSignal
  /** What a gzip body may unpack to, and the largest entry the tar may hold. */
  limits?: InflateLimits
}

/**
 * The image config an import writes, with `changes` applied. Built before the body is read,
 * so that a bad change is refused before any byte is consumed.
 */
export function importConfig(
  opts: ImportOptions,
  diffId: Digest | null = null,
  created = new Date()
) {
  const { os, architecture, variant } = opts.platform
  const when = created.toISOString()
  const runtime: ContainerConfig = applyChanges({}, opts.changes)
  return {
    architecture,
    os,
    ...(variant ? { variant } : {}),
    created: when,
    comment: opts.message,
    config: runtime,
    rootfs: { type: 'layers', diff_ids: diffId ? [diffId] : [] },
    history: [{ created: when, comment: opts.message }],
  }
}

/** Imports the tar in `body` and records the image (untagged: tagging is the caller's). */
export async function importImage(
  deps: { blobs: BlobStore; images: ImageStore },
  body: ReadableStream<Uint8Array>,
  opts: ImportOptions
): Promise<ImageRecord> {
  importConfig(opts) // refuse bad changes before reading anything
  const { head, stream } = await peek(body, MAGIC_LENGTH)
  if (head.byteLength === 0) throw new ImageError(400, 'the request body is empty: expected a tar archive')
  const diff = new Sha256Counter()
  let layer
  try {
    const tar = (await decompressed(stream, opts.limits))
      .pipeThrough(hashing(diff))
      .pipeThrough(tarCheck({ maxEntryBytes: opts.limits?.maxBytes }))
    const gzip = new CompressionStream('gzip') as TransformStream<Uint8Array, Uint8Array>
    layer = await deps.blobs.putComputed(tar.pipeThrough(gzip), opts.signal)
  } catch (err) {
    throw importError(err)
  }
  const diffId = diff.digest()
  return writeImage(deps.blobs, deps.images, {
    config: importConfig(opts, diffId),
    layers: [
      { digest: layer.digest, size: layer.size, mediaType: MediaType.dockerLayerGzip, diffId },
    ],
  })
}

// What the archive layer found wrong, in the Engine API's terms; the rest passes unchanged.
function importError(err: unknown): unknown {
  if (err instanceof UnsupportedCompressionError) {
    const why = `${err.message}: import a plain or gzip-compressed tar`
    return new ImageError(400, why, { cause: err })
  }
  if (err instanceof CompressedDataError) return new ImageError(400, err.message, { cause: err })
  if (err instanceof InflateLimitError) return new ImageError(413, err.message, { cause: err })
  return err
}

/** Passes bytes through into `hash` (the DiffID is the digest of the uncompressed tar). */
function hashing(hash: Sha256Counter): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      hash.update(chunk)
      controller.enqueue(chunk)
    },
  })
}
