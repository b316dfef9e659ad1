/**
 * Load, first pass: the archive is read once, as it arrives, and every file goes where it
 * can be found again without holding big bytes in memory. `blobs/sha256/<hex>` files are
 * stored under that digest, verified as they stream; other big files (old layouts'
 * `<id>/layer.tar`) are stored under the digest computed on the way; small files outside
 * `blobs/` (manifest.json, `<id>.json` configs) are kept in memory. Which file is what is
 * only known once manifest.json is read, and archives put it anywhere (docker puts it last),
 * so nothing is interpreted here. Entry names and links that leave the archive are refused.
 */
import { decompressed, type InflateLimits } from '../archive/compression.ts'
import { contentTap } from '../archive/content-tap.ts'
import { archivePath, entryLocation, hardlinkTarget, resolveLinks, symlinkTarget } from '../archive/paths.ts'
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
// What the first pass remembers per entry is bounded too. docker save writes a few entries per
// image and layer, three levels deep at most; these are orders of magnitude beyond.
const MAX_ENTRIES = 100_000
const MAX_NAME_BYTES = 16 << 20
const MAX_DEPTH = 64

/** Reads `body` (a tar, plain or gzip) into the store; `stored` collects what was written. */
export async function readArchive(
  body: ReadableStream<Uint8Array>,
  blobs: BlobStore,
  stored: Stored,
  signal?: AbortSignal,
  limits?: InflateLimits
): Promise<ArchiveContents> {
  const files = new Map<string, ArchiveFile>()
  const links = new Map<string, string>()
  let inMemory = 0
  let entries = 0
  let nameBytes = 0
  for await (const entry of readTar(await decompressed(body, limits))) {
    signal?.throwIfAborted()
    checkEntry(entry, ++entries, (nameBytes += entry.name.length), limits)
    const named = archivePath(entry.name)
    if (entry.type === 'directory' || entry.type === 'other') continue
    if (named === '') throw new TarError(`invalid archive: entry ${JSON.stringify(entry.name)} has no name`)
    // An entry under a symlinked directory is where that link leads, and so are its links.
    const path = entryLocation(named, links)
    files.delete(path)
    links.delete(path)
    if (entry.type === 'symlink') {
      const dir = resolveLinks(path.split('/').slice(0, -1).join('/'), links)
      links.set(path, symlinkTarget(named, entry.linkname, 'refuse', dir))
    } else if (entry.type === 'hardlink') links.set(path, hardlinkTarget(path, entry.linkname))
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

// Refuses what would make the first pass's memory or time unbounded.
function checkEntry(entry: TarReadEntry, count: number, nameBytes: number, limits?: InflateLimits): void {
  if (count > MAX_ENTRIES) throw new TarError(`invalid archive: more than ${MAX_ENTRIES} entries`)
  if (nameBytes > MAX_NAME_BYTES) {
    throw new TarError(`invalid archive: entry names longer than ${MAX_NAME_BYTES} bytes in all`)
  }
  if (entry.name.split('/').length > MAX_DEPTH) {
    throw new TarError(`invalid archive: ${JSON.stringify(entry.name.slice(0, 64))}… is more than ${MAX_DEPTH} levels deep`)
  }
  if (limits && entry.size > limits.maxBytes) {
    const what = `${JSON.stringify(entry.name)} claims ${entry.size} bytes`
    throw new TarError(`invalid archive: ${what}, more than the body may hold (limits.bodyBytes)`)
  }
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
