/**
 * A Map-backed driver: the default for tests and for throwaway instances. Objects are
 * immutable arrays swapped in whole, which makes puts atomic for free.
 */
import {
  StorageError,
  type ByteRange,
  type ObjectBody,
  type ObjectInfo,
  type PutOptions,
  type StorageDriver,
} from './driver.ts'
import { checkKey, checkPrefix } from './keys.ts'
import { checkRange, discard, rangeStream, verifiedChunks } from './streams.ts'

interface Entry {
  readonly bytes: Uint8Array
  readonly modified: number
}

/** Creates an empty in-memory driver. */
export function createMemoryDriver(): StorageDriver {
  const objects = new Map<string, Entry>()
  const infoOf = (key: string, e: Entry): ObjectInfo => ({
    key,
    size: e.bytes.byteLength,
    modified: e.modified,
  })

  return {
    name: 'memory',
    partialReads: true,

    async stat(key) {
      const e = objects.get(checkKey(key))
      return e ? infoOf(key, e) : null
    },

    async get(key, range) {
      const e = objects.get(checkKey(key))
      if (!e) return null
      const r = checkRange(range, e.bytes.byteLength, key)
      return { info: infoOf(key, e), range: r, body: rangeStream(e.bytes, r) } satisfies ObjectBody
    },

    async put(key, body, opts?: PutOptions) {
      let bytes
      try {
        checkKey(key)
        bytes = await collect(body, opts)
      } catch (err) {
        discard(body, err)
        throw err
      }
      const e = { bytes, modified: Date.now() }
      objects.set(key, e)
      return infoOf(key, e)
    },

    async delete(key) {
      return objects.delete(checkKey(key))
    },

    async *list(prefix) {
      checkPrefix(prefix)
      for (const key of [...objects.keys()]) if (key.startsWith(prefix)) yield key
    },
  }
}

// Copies in, because the caller may reuse its buffers; preallocates when the size is known and
// grows by doubling otherwise. What is written can be read back at once (PutOptions.onWritten).
async function collect(
  body: ReadableStream<Uint8Array> | Uint8Array,
  opts?: PutOptions
): Promise<Uint8Array> {
  let buf = new Uint8Array(opts?.size ?? 0)
  let at = 0
  const read = async (offset: number, length: number) => {
    if (offset < 0 || length < 0 || offset + length > at) {
      throw new StorageError(`partial read ${offset}+${length} beyond ${at} written bytes`)
    }
    return buf.slice(offset, offset + length)
  }
  for await (const chunk of verifiedChunks(body, opts)) {
    if (at + chunk.byteLength > buf.byteLength) {
      const grown = new Uint8Array(Math.max(at + chunk.byteLength, buf.byteLength * 2, 64 * 1024))
      grown.set(buf.subarray(0, at))
      buf = grown
    }
    buf.set(chunk, at)
    at += chunk.byteLength
    opts?.onWritten?.(at, read)
  }
  opts?.onVerified?.()
  return at === buf.byteLength ? buf : buf.slice(0, at)
}
