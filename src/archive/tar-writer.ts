/**
 * A streaming tar writer: entries in, one ReadableStream of archive bytes out, produced as
 * the consumer reads. Sizes are declared up front (tar needs them in the header), bodies are
 * opened only when their entry is reached and are never held whole. A body shorter or longer
 * than declared errors the stream rather than producing a corrupt archive silently.
 */
import { BLOCK, encodeHeader, padded, TarError } from './tar-header.ts'

/** One entry to write. */
export interface TarWriteEntry {
  /** Path inside the archive; directories end with `/`. */
  name: string
  type?: 'file' | 'directory'
  /** Body length in bytes (files only). */
  size?: number
  /** Permission bits; 0644 for files, 0755 for directories. */
  mode?: number
  /** Seconds since the epoch; 0 by default. */
  mtime?: number
  /** The bytes, or a function that opens them when the entry is reached. */
  body?: Uint8Array | (() => Promise<ReadableStream<Uint8Array>>)
}

// Go's tar writer ends archives with two zero blocks and no record padding.
const END = new Uint8Array(2 * BLOCK)

/** The archive of `entries`, in order. */
export function tarStream(
  entries: AsyncIterable<TarWriteEntry> | Iterable<TarWriteEntry>
): ReadableStream<Uint8Array> {
  const it =
    Symbol.asyncIterator in entries
      ? (entries as AsyncIterable<TarWriteEntry>)[Symbol.asyncIterator]()
      : (entries as Iterable<TarWriteEntry>)[Symbol.iterator]()
  let body: { reader: ReadableStreamDefaultReader<Uint8Array>; entry: TarWriteEntry; left: number } | null =
    null

  const stop = async (reason: unknown) => {
    await body?.reader.cancel(reason).catch(() => {})
    body = null
    await it.return?.()
  }

  // One step of output; false when it produced nothing (a body ending on a block boundary).
  async function step(controller: ReadableStreamDefaultController<Uint8Array>): Promise<boolean> {
    if (body) {
      const { done, value } = await body.reader.read()
      if (done) {
        if (body.left !== 0) throw sizeError(body.entry, body.entry.size! - body.left)
        const pad = padded(body.entry.size!) - body.entry.size!
        body = null
        if (!pad) return false
        controller.enqueue(new Uint8Array(pad))
        return true
      }
      body.left -= value.byteLength
      if (body.left < 0) throw sizeError(body.entry, `more than ${body.entry.size}`)
      controller.enqueue(value)
      return true
    }
    const next = await it.next()
    if (next.done) {
      controller.enqueue(END)
      controller.close()
      return true
    }
    const entry = next.value
    const dir = entry.type === 'directory'
    const size = dir ? 0 : entry.size ?? (entry.body instanceof Uint8Array ? entry.body.byteLength : 0)
    const header = encodeHeader({
      name: entry.name,
      type: dir ? 'directory' : 'file',
      size,
      mode: entry.mode ?? (dir ? 0o755 : 0o644),
      mtime: entry.mtime ?? 0,
      linkname: '',
    })
    if (dir || size === 0) {
      controller.enqueue(header)
      return true
    }
    if (entry.body instanceof Uint8Array) {
      if (entry.body.byteLength !== size) throw sizeError(entry, entry.body.byteLength)
      const out = new Uint8Array(header.byteLength + padded(size))
      out.set(header)
      out.set(entry.body, header.byteLength)
      controller.enqueue(out)
      return true
    }
    if (!entry.body) throw new TarError(`no body for ${entry.name}`)
    controller.enqueue(header)
    body = { reader: (await entry.body()).getReader(), entry: { ...entry, size }, left: size }
    return true
  }

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          // A pull that enqueues nothing is not called again (the read would hang).
          while (!(await step(controller)));
        } catch (err) {
          await stop(err)
          throw err
        }
      },
      cancel: stop,
    },
    { highWaterMark: 0 }
  )
}

const sizeError = (entry: TarWriteEntry, got: number | string) =>
  new TarError(`${entry.name}: expected ${entry.size} bytes, got ${got}`)
