/**
 * A Map-backed driver: the default for tests and for throwaway instances. Objects are
 * immutable arrays swapped in whole, which makes puts atomic for free.
 */
import type { ByteRange, ObjectBody, ObjectInfo, PutOptions, StorageDriver } from './driver.ts'
import { checkKey, checkPrefix } from './keys.ts'
import { checkRange, discard, IO_CHUNK, verifiedChunks } from './streams.ts'

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

    async stat(key) {
      const e = objects.get(checkKey(key))
      return e ? infoOf(key, e) : null
    },

    async get(key, range) {
      const e = objects.get(checkKey(key))
      if (!e) return null
      const r = checkRange(range, e.bytes.byteLength, key)
      return { info: infoOf(key, e), range: r, body: arrayStream(e.bytes, r) } satisfies ObjectBody
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

// Copies in, because the caller may reuse its buffers; preallocates when the size is known.
async function collect(
  body: ReadableStream<Uint8Array> | Uint8Array,
  opts?: PutOptions
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  const out = opts?.size === undefined ? undefined : new Uint8Array(opts.size)
  let at = 0
  for await (const chunk of verifiedChunks(body, opts)) {
    if (out) out.set(chunk, at)
    else chunks.push(chunk.slice())
    at += chunk.byteLength
  }
  if (out) return out
  const whole = new Uint8Array(at)
  at = 0
  for (const c of chunks) {
    whole.set(c, at)
    at += c.byteLength
  }
  return whole
}

// Copies out in IO_CHUNK slices, so a reader that transfers or mutates cannot touch the store.
function arrayStream(bytes: Uint8Array, range: ByteRange): ReadableStream<Uint8Array> {
  let at = range.offset
  const end = range.offset + range.length
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (at < end) {
          const next = Math.min(end, at + IO_CHUNK)
          controller.enqueue(bytes.slice(at, next))
          at = next
        }
        if (at >= end) controller.close()
      },
    },
    { highWaterMark: 0 }
  )
}
