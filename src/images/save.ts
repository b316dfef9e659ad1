/**
 * `docker save`: the archive docker 25+ writes (image-api-notes §8.1), streamed from the
 * store in one pass. Every blob is stat'ed before the first byte, so a missing one is an
 * HTTP error rather than a broken archive, and its size goes into its tar header; the bytes
 * then flow from the store through a digest check into the tar stream as the client reads.
 *
 * One deliberate difference: the blobs are the ones edgepull keeps, i.e. the registry's
 * (compressed) layers and manifest, as docker's containerd image store saves them, not
 * graphdriver's uncompressed DiffID tars, whose sizes are unknown until decompressed.
 * `manifest.json` points at them; docker load, skopeo and containerd accept that layout.
 */
import { tarStream, type TarWriteEntry } from '../archive/tar-writer.ts'
import { hex, verifying, type Digest } from '../oci/digest.ts'
import type { BlobStore } from '../storage/blobs.ts'
import {
  blobPath,
  INDEX_JSON,
  indexJson,
  MANIFEST_JSON,
  manifestJson,
  OCI_LAYOUT,
  ociLayout,
  REPOSITORIES,
  repositoriesJson,
  type SavedImage,
} from './archive-layout.ts'
import { ImageError } from './errors.ts'
import type { SaveImage } from './save-names.ts'

/** The archive of `selected`; throws ImageError before streaming when a blob is missing. */
export async function saveArchive(
  blobs: BlobStore,
  selected: SaveImage[]
): Promise<ReadableStream<Uint8Array>> {
  const files = new Map<Digest, { size: number; mtime: number }>()
  for (const { record } of selected) {
    const mtime = unixSeconds(record.created)
    for (const d of [record.id, ...record.layers.map((l) => l.digest), record.manifest.digest]) {
      if (files.has(d)) continue
      const info = await blobs.stat(d)
      if (!info) throw new ImageError(500, `blob ${d} of image ${record.id} is missing from the store`)
      files.set(d, { size: info.size, mtime })
    }
  }

  const saved: SavedImage[] = selected.map(({ record, tags }) => ({
    id: record.id,
    manifest: record.manifest,
    tags,
    layers: record.layers.map((l) => l.digest),
    topDiffId: record.layers.at(-1)!.diffId,
  }))
  const dirTime = unixSeconds(selected[0]?.record.created)
  const entries: TarWriteEntry[] = [
    { name: 'blobs/', type: 'directory', mtime: dirTime },
    { name: 'blobs/sha256/', type: 'directory', mtime: dirTime },
  ]
  // archive.Tar walks the directory, so everything is in lexical order; metadata comes last.
  for (const d of [...files.keys()].sort((a, b) => (hex(a) < hex(b) ? -1 : 1))) {
    const { size, mtime } = files.get(d)!
    entries.push({ name: blobPath(d), size, mtime, body: () => blobBody(blobs, d, size) })
  }
  entries.push({ name: INDEX_JSON, body: indexJson(saved) })
  entries.push({ name: MANIFEST_JSON, body: manifestJson(saved) })
  entries.push({ name: OCI_LAYOUT, body: ociLayout() })
  const repositories = repositoriesJson(saved)
  if (repositories) entries.push({ name: REPOSITORIES, body: repositories })
  return tarStream(entries)
}

async function blobBody(blobs: BlobStore, digest: Digest, size: number): Promise<ReadableStream<Uint8Array>> {
  const blob = await blobs.get(digest)
  if (!blob) throw new Error(`blob ${digest} disappeared from the store while saving`)
  return blob.body.pipeThrough(verifying({ digest, size }))
}

const unixSeconds = (iso: string | undefined): number => {
  const ms = iso ? Date.parse(iso) : NaN
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0
}
