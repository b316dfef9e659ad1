/**
 * Reading and writing one file for the fs driver: large chunks both ways, one chunk of
 * read-ahead, writes that overlap the reads feeding them, and the wrapping of file-system
 * failures.
 */
import { Buffer } from 'node:buffer'
import type { Stats } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { StorageError } from './driver.ts'
import { IO_CHUNK, readAhead } from './streams.ts'

/**
 * Writes `chunks` to `fh`, gathering small ones into IO_CHUNK writes (per-write overhead
 * dominates otherwise, on Node above all). One write stays in flight while the next chunks
 * are read, hashed and gathered, so the disk and the network overlap; two gathering buffers
 * alternate, and one is reused only once its write has finished. `onWritten` hears the
 * file's length after each write.
 */
export async function writeChunks(
  fh: FileHandle,
  chunks: AsyncIterable<Uint8Array>,
  onWritten?: (written: number) => void
): Promise<void> {
  const spare: Uint8Array[] = []
  let buf: Uint8Array | undefined
  let fill = 0
  let written = 0
  let inFlight: Promise<void> = Promise.resolve()
  const write = async (bytes: Uint8Array, done?: () => void) => {
    await inFlight
    inFlight = writeAll(fh, bytes).then(() => {
      written += bytes.byteLength
      onWritten?.(written)
      done?.()
    })
    inFlight.catch(() => {}) // awaited by the next write or at the end
  }
  const flush = async () => {
    const full = buf!
    buf = undefined
    await write(full.subarray(0, fill), () => spare.push(full))
    fill = 0
  }
  try {
    for await (const chunk of chunks) {
      const large = chunk.byteLength >= IO_CHUNK / 2
      if (buf && fill > 0 && (large || fill + chunk.byteLength > IO_CHUNK)) await flush()
      if (large) {
        await write(chunk)
        continue
      }
      // Two buffers at most: the other one is in flight, and awaited before this one is written.
      buf ??= spare.pop() ?? allocate(IO_CHUNK)
      buf.set(chunk, fill)
      fill += chunk.byteLength
    }
    if (buf && fill) await flush()
  } finally {
    // Never leave a write running past the caller's close or removal of the file.
    await inFlight.catch(() => {})
  }
  await inFlight
}

async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength; ) {
    const written = await io('write', 'temp file', fh.write(bytes, at, bytes.byteLength - at))
    at += written.bytesWritten
  }
}

/** Reads of a put's temp file while it is written, and their end. */
export interface TempReader {
  read(offset: number, length: number): Promise<Uint8Array>
  /** Waits for the reads in flight and closes the handle; later reads throw. */
  close(): Promise<void>
}

/**
 * Reads the temp file of a put while it is written, through one handle shared by every
 * reader of that put: opening the file per read cost three thread-pool round trips per MiB
 * and reader. `close()` keeps the handle from outliving the put; a reader whose read then
 * fails goes to the committed object instead.
 */
export function tempReader(path: string): TempReader {
  let fh: Promise<FileHandle> | undefined
  let closed = false
  const pending = new Set<Promise<unknown>>()
  const readAt = async (offset: number, length: number) => {
    fh ??= io('open', path, open(path, 'r'))
    const h = await fh
    const buf = allocate(length)
    for (let at = 0; at < length; ) {
      const { bytesRead } = await io('read', path, h.read(buf, at, length - at, offset + at))
      if (bytesRead === 0) throw new StorageError(`${path} ends before ${offset + length}`)
      at += bytesRead
    }
    return buf
  }
  return {
    read(offset, length) {
      if (closed) return Promise.reject(new StorageError(`${path} is no longer being written`))
      const p = readAt(offset, length)
      pending.add(p)
      const forget = () => void pending.delete(p)
      p.then(forget, forget)
      return p
    },
    async close() {
      closed = true
      await Promise.allSettled([...pending])
      const h = await fh?.catch(() => undefined)
      await h?.close().catch(() => {})
    },
  }
}

/** What `openSmall` found: a missing key, a large file's stats, or a small file whole. */
export type SmallRead = null | { st: Stats; bytes?: Uint8Array }

/**
 * Reads the file at `path` whole through one descriptor when it is at most `limit` bytes,
 * else returns its stats. Small keys (manifests, image records) are rewritten and deleted
 * while others read them; stat-then-open would see a delete as an I/O error and a rewrite
 * as a torn read, so these are read at once, from whichever version the open found.
 */
export async function openSmall(path: string, limit: number): Promise<SmallRead> {
  let fh: FileHandle
  try {
    fh = await open(path, 'r')
  } catch (err) {
    if (isMissing(err)) return null
    throw new StorageError(`fs: open ${path}: ${message(err)}`, { cause: err })
  }
  try {
    const st = await fh.stat()
    if (!st.isFile()) return null
    if (st.size > limit) return { st }
    const bytes = allocate(st.size)
    let at = 0
    while (at < st.size) {
      const { bytesRead } = await fh.read(bytes, at, st.size - at, at)
      if (bytesRead === 0) throw new StorageError(`${path} was truncated while being read`)
      at += bytesRead
    }
    return { st, bytes }
  } catch (err) {
    if (err instanceof StorageError) throw err
    throw new StorageError(`fs: read ${path}: ${message(err)}`, { cause: err })
  } finally {
    await fh.close().catch(() => {})
  }
}

/** A key that is not there (or whose directory is a file). */
export function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/**
 * Reads [offset, offset+length) of the file `st` describes. The file is opened on the first
 * read, not before: a GET handler that Hono reuses for HEAD drops the body unread, and an fd
 * opened eagerly then leaks (Deno) or crashes the process (Bun). If the key was replaced
 * between stat and open, the stream errors instead of mixing two versions.
 */
export function fileStream(
  path: string,
  st: Stats,
  offset: number,
  length: number,
  chunk = IO_CHUNK
): ReadableStream<Uint8Array> {
  let fh: FileHandle | undefined
  let at = offset
  const end = offset + length
  const close = async () => {
    const h = fh
    fh = undefined
    await h?.close().catch(() => {})
  }
  const next = async (): Promise<Uint8Array | null> => {
    try {
      if (at >= end) return null
      if (!fh) {
        fh = await open(path, 'r')
        const now = await fh.stat()
        if (now.ino !== st.ino || now.size !== st.size || now.mtimeMs !== st.mtimeMs) {
          throw new StorageError(`${path} was replaced while being read`)
        }
      }
      const want = Math.min(chunk, end - at)
      const buf = allocate(want)
      const { bytesRead } = await fh.read(buf, 0, want, at)
      if (bytesRead === 0) throw new StorageError(`${path} was truncated while being read`)
      at += bytesRead
      if (at >= end) await close()
      return bytesRead === want ? buf : buf.subarray(0, bytesRead)
    } catch (err) {
      await close()
      if (err instanceof StorageError) throw err
      throw new StorageError(`fs: read ${path}: ${message(err)}`, { cause: err })
    }
  }
  return readAhead(next, close)
}

/**
 * A buffer the caller fills before anyone sees it, so not zero-filled: the memset of every
 * fresh MiB showed in profiles. Slow (unpooled) because these are large and short-lived.
 */
const allocate = (size: number): Uint8Array => Buffer.allocUnsafeSlow(size)

/** An error's message, whatever was thrown. */
export const message = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/**
 * Turns a failed file-system call into a StorageError. Only such calls are wrapped:
 * verification errors, abort reasons and body errors pass through, callers tell them apart.
 */
export const io = <T>(op: string, what: string, p: Promise<T>): Promise<T> =>
  p.catch((err: unknown) => {
    throw new StorageError(`fs: ${op} ${what}: ${message(err)}`, { cause: err })
  })
