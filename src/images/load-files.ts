/**
 * Load, first pass: the archive is read once, as it arrives, and every file goes where it
 * can be found again without holding big bytes in memory. `blobs/sha256/<hex>` files are
 * stored under that digest, verified as they stream; other big files (old layouts'
 * `<id>/layer.tar`) are stored under the digest computed on the way; small files outside
 * `blobs/` (manifest.json, `<id>.json` configs) are kept in memory. Which file is what is
 * only known once manifest.json is read, and archives put it anywhere (docker puts it last),
 * so nothing is interpreted here. Entry names and links that leave the archive are refused.
 */
import { decompressed } from '../archive/compression.ts'
import { contentTap } from '../archive/content-tap.ts'
import { archivePath, hardlinkTarget, symlinkTarget } from '../archive/paths.ts'
import { TarError } from '../archive/tar-header.ts'
import { readTar, type TarReadEntry } from '../archive/tar-reader.ts'
import type { Compression } from '../archive/compression.ts'
import { DigestMismatchError, verifying, type Digest } from '../oci/digest.ts'
import type { BlobStore } from '../storage/blobs.ts'
import { digestOfBlobPath } from './archive-layout.ts'

/** A regular file of the archive: its bytes in memory, or a blob in the store. */
export type ArchiveFile =
  | { kind: 'bytes'; bytes: Uint8Array }
  | {
      kind: 'blob'
      digest: Digest
      size: number
      compression: Compression | null
      /** For gzip files: the digest of their decompressed content (a layer's DiffID). */
      uncompressedDigest: Digest | null
    }

/** Everything the first pass learnt. */
export interface ArchiveContents {
  /** Regular files by cleaned path. */
  files: Map<string, ArchiveFile>
  /** Symlinks and hardlinks: cleaned path → cleaned target, both inside the archive. */
  links: Map<string, string>
}

/** Blobs this load stored: released again (when nothing else holds them) when it ends. */
export type Stored = Set<Digest>

// Files kept in memory: small ones outside blobs/, up to a total that bounds a hostile archive.
const SMALL_FILE = 1 << 20
const SMALL_TOTAL = 64 << 20

/** Reads `body` (a tar, plain or gzip) into the store; `stored` collects what was written. */
export async function readArchive(
  body: ReadableStream<Uint8Array>,
  blobs: BlobStore,
  stored: Stored,
  signal?: AbortSignal
): Promise<ArchiveContents> {
  const files = new Map<string, ArchiveFile>()
  const links = new Map<string, string>()
  let inMemory = 0
  for await (const entry of readTar(await decompressed(body))) {
    signal?.throwIfAborted()
    const path = archivePath(entry.name)
    if (entry.type === 'directory' || entry.type === 'other') continue
    if (path === '') throw new TarError(`invalid archive: entry ${JSON.stringify(entry.name)} has no name`)
    files.delete(path)
    links.delete(path)
    if (entry.type === 'symlink') links.set(path, symlinkTarget(path, entry.linkname))
    else if (entry.type === 'hardlink') links.set(path, hardlinkTarget(path, entry.linkname))
    else {
      const digest = digestOfBlobPath(path)
      if (!digest && entry.size <= SMALL_FILE && inMemory + entry.size <= SMALL_TOTAL) {
        inMemory += entry.size
        const bytes = new Uint8Array(await new Response(entry.body).arrayBuffer())
        files.set(path, { kind: 'bytes', bytes })
      } else {
        files.set(path, await storeFile(entry, path, digest, blobs, stored, signal))
      }
    }
  }
  return { files, links }
}

async function storeFile(
  entry: TarReadEntry,
  path: string,
  digest: Digest | null,
  blobs: BlobStore,
  stored: Stored,
  signal?: AbortSignal
): Promise<ArchiveFile> {
  const tap = contentTap()
  const body = entry.body.pipeThrough(tap.stream)
  try {
    if (!digest) {
      const info = await blobs.putComputed(body, signal)
      digest = info.digest
      stored.add(digest)
    } else if (await blobs.stat(digest)) {
      // Already stored (and verified then); the archive's copy must still be what it claims.
      await body.pipeThrough(verifying({ digest, size: entry.size })).pipeTo(new WritableStream(), { signal })
    } else {
      await blobs.put(digest, body, entry.size, signal)
      stored.add(digest)
    }
  } catch (err) {
    if (!(err instanceof DigestMismatchError)) throw err
    throw new TarError(`invalid archive: ${path}: ${err.message}`, { cause: err })
  }
  return { kind: 'blob', digest, size: entry.size, ...(await tap.result()) }
}
