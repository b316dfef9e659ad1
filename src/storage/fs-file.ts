/**
 * Reading and writing one file for the fs driver: large chunks both ways, lazy opening on
 * read, and the wrapping of file-system failures.
 */
import type { Stats } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { StorageError } from './driver.ts'
import { IO_CHUNK } from './streams.ts'

/**
 * Writes `chunks` to `fh`, gathering small ones into IO_CHUNK writes (per-write overhead
 * dominates otherwise, on Node above all). `onWritten` hears the file's length after each write.
 */
export async function writeChunks(
  fh: FileHandle,
  chunks: AsyncIterable<Uint8Array>,
  onWritten?: (written: number) => void
): Promise<void> {
  let buf: Uint8Array | undefined
  let fill = 0
  let written = 0
  const write = async (bytes: Uint8Array) => {
    await writeAll(fh, bytes)
    written += bytes.byteLength
    onWritten?.(written)
  }
  for await (const chunk of chunks) {
    const large = chunk.byteLength >= IO_CHUNK / 2
    if (buf && fill > 0 && (large || fill + chunk.byteLength > IO_CHUNK)) {
      await write(buf.subarray(0, fill))
      fill = 0
    }
    if (large) {
      await write(chunk)
      continue
    }
    buf ??= new Uint8Array(IO_CHUNK)
    buf.set(chunk, fill)
    fill += chunk.byteLength
  }
  if (buf && fill) await write(buf.subarray(0, fill))
}

/**
 * Reads [offset, offset+length) of a file being written (a put's temp file), opening and
 * closing it per call: the put renames or removes the file when it settles, and a handle
 * held across that would outlive the put.
 */
export async function readPart(path: string, offset: number, length: number): Promise<Uint8Array> {
  const fh = await io('open', path, open(path, 'r'))
  try {
    const buf = new Uint8Array(length)
    for (let at = 0; at < length; ) {
      const { bytesRead } = await io('read', path, fh.read(buf, at, length - at, offset + at))
      if (bytesRead === 0) throw new StorageError(`${path} ends before ${offset + length}`)
      at += bytesRead
    }
    return buf
  } finally {
    await fh.close().catch(() => {})
  }
}

async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength; ) {
    const written = await io('write', 'temp file', fh.write(bytes, at, bytes.byteLength - at))
    at += written.bytesWritten
  }
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
  length: number
): ReadableStream<Uint8Array> {
  let fh: FileHandle | undefined
  let at = offset
  const end = offset + length
  const close = async () => {
    const h = fh
    fh = undefined
    await h?.close().catch(() => {})
  }
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (at < end && !fh) {
            fh = await open(path, 'r')
            const now = await fh.stat()
            if (now.ino !== st.ino || now.size !== st.size || now.mtimeMs !== st.mtimeMs) {
              throw new StorageError(`${path} was replaced while being read`)
            }
          }
          if (fh && at < end) {
            const want = Math.min(IO_CHUNK, end - at)
            const buf = new Uint8Array(want)
            const { bytesRead } = await fh.read(buf, 0, want, at)
            if (bytesRead === 0) throw new StorageError(`${path} was truncated while being read`)
            at += bytesRead
            controller.enqueue(bytesRead === want ? buf : buf.subarray(0, bytesRead))
          }
          if (at >= end) {
            await close()
            controller.close()
          }
        } catch (err) {
          await close()
          controller.error(
            err instanceof StorageError
              ? err
              : new StorageError(`fs: read ${path}: ${message(err)}`, { cause: err })
          )
        }
      },
      cancel: close,
    },
    { highWaterMark: 0 }
  )
}

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
