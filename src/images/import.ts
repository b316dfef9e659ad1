/**
 * `docker import`: a root file system tar (plain or gzip) becomes a one-layer image. The body
 * is read once: decompressed if needed, hashed for the DiffID, checked to be a whole tar,
 * gzip-compressed again and stored under the compressed digest learnt on the way.
 */
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
  const { head, stream } = await peek(body, 6)
  const diff = new Sha256Counter()
  const tar = uncompressed(head, stream).pipeThrough(hashing(diff)).pipeThrough(tarCheck())
  const layer = await deps.blobs.putComputed(
    tar.pipeThrough(new CompressionStream('gzip') as TransformStream<Uint8Array, Uint8Array>),
    opts.signal
  )
  const diffId = diff.digest()
  return writeImage(deps.blobs, deps.images, {
    config: importConfig(opts, diffId),
    layers: [
      { digest: layer.digest, size: layer.size, mediaType: MediaType.dockerLayerGzip, diffId },
    ],
  })
}

const MAGIC: [string, number[]][] = [
  ['gzip', [0x1f, 0x8b, 0x08]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
]

/** The body as a plain tar stream, by its magic bytes (archive.DetectCompression). */
function uncompressed(
  head: Uint8Array,
  stream: ReadableStream<Uint8Array>
): ReadableStream<Uint8Array> {
  const kind = MAGIC.find(([, m]) => m.every((b, i) => head[i] === b))?.[0]
  if (!kind) return stream
  if (kind !== 'gzip') {
    void stream.cancel().catch(() => {})
    throw new ImageError(
      400,
      `unsupported compression format ${kind}: import a plain or gzip-compressed tar`
    )
  }
  const gunzip = new DecompressionStream('gzip') as TransformStream<Uint8Array, Uint8Array>
  return relabel(
    stream.pipeThrough(gunzip),
    (err) => new ImageError(400, `invalid gzip data: ${(err as Error).message}`)
  )
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

/** Reads at least `n` bytes (fewer at the end), returning them and the whole stream again. */
async function peek(
  body: ReadableStream<Uint8Array>,
  n: number
): Promise<{ head: Uint8Array; stream: ReadableStream<Uint8Array> }> {
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  while (size < n) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    size += value.byteLength
  }
  if (size === 0) throw new ImageError(400, 'the request body is empty: expected a tar archive')
  const head = new Uint8Array(size)
  chunks.reduce((at, c) => (head.set(c, at), at + c.byteLength), 0)
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(head)
    },
    async pull(controller) {
      const { done, value } = await reader.read()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    cancel: (reason) => reader.cancel(reason),
  })
  return { head, stream }
}

/** The same stream, with its read errors replaced by `map(err)`. */
function relabel(
  s: ReadableStream<Uint8Array>,
  map: (err: unknown) => Error
): ReadableStream<Uint8Array> {
  const reader = s.getReader()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let r
      try {
        r = await reader.read()
      } catch (err) {
        throw map(err)
      }
      if (r.done) controller.close()
      else controller.enqueue(r.value)
    },
    cancel: (reason) => reader.cancel(reason),
  })
}
