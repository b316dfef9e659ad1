/**
 * The R2 driver (Cloudflare Workers): a key is an R2 object key. Puts write the final key
 * only when they commit (a single put, or a multipart upload's complete(), both atomic), so
 * readers see the old object or the new one. How the bytes get there is in r2-upload.ts.
 * Ranges are checked here, not left to R2: it clamps a range running past the end and
 * refuses zero-length ones (measured in Miniflare), where the driver contract wants an
 * error for the first and an empty body for the second.
 */
import type { ByteRange, ObjectBody, ObjectInfo, StorageDriver } from './driver.ts'
import { StorageError } from './driver.ts'
import { checkKey, checkPrefix } from './keys.ts'
import type { R2Bucket, R2Object } from './r2-types.ts'
import { Feed, fixedLengthStream } from './r2-streams.ts'
import { bufferedPut, multipartPut, singlePut } from './r2-upload.ts'
import { R2_MAX_OBJECT, R2_MAX_PARTS, R2_MAX_PUT, R2_MIN_PART } from './r2-upload.ts'
import { r2, r2Code, r2Error, type Upload } from './r2-upload.ts'
import { checkRange, discard, verifiedChunks } from './streams.ts'

const MiB = 1 << 20
export { R2_MAX_OBJECT, R2_MAX_PARTS, R2_MAX_PUT, R2_MIN_PART } from './r2-upload.ts'

/** Options for createR2Driver; the defaults suit production, small values suit tests. */
export interface R2DriverOptions {
  /** Known sizes above this go multipart. Default and maximum R2_MAX_PUT. */
  readonly singlePutLimit?: number
  /**
   * Part length of multipart uploads of known size, streamed without buffering. Raised as
   * needed to stay within R2_MAX_PARTS (64 MiB parts reach 625 GiB). Default 64 MiB.
   */
  readonly partSize?: number
  /**
   * Part length for bodies of unknown size. Each such part is held in memory until full
   * (R2 needs a part's length before its first byte), so this bounds memory per put, and
   * R2_MAX_PARTS of them bound the body (8 MiB parts: 78 GiB). Default 8 MiB.
   */
  readonly bufferedPartSize?: number
  /** Keys per list() call, at most 1000 (the default). */
  readonly listLimit?: number
}

/** Largest part length `size` needs to fit in R2_MAX_PARTS parts of at least `partSize`. */
export const partLengthFor = (size: number, partSize: number): number =>
  Math.max(partSize, Math.ceil(size / R2_MAX_PARTS))

/** Creates a driver over an R2 bucket binding. Puts work only inside workerd. */
export function createR2Driver(bucket: R2Bucket, opts: R2DriverOptions = {}): StorageDriver {
  const singlePutLimit = option('singlePutLimit', opts.singlePutLimit, R2_MAX_PUT, 0)
  const partSize = option('partSize', opts.partSize, 64 * MiB, R2_MIN_PART)
  const bufferedPartSize = option('bufferedPartSize', opts.bufferedPartSize, 8 * MiB, R2_MIN_PART)
  const listLimit = option('listLimit', opts.listLimit, 1000, 1, 1000)
  const infoOf = (o: R2Object): ObjectInfo => ({
    key: o.key,
    size: o.size,
    modified: o.uploaded.getTime(),
  })
  const head = (key: string) => r2('head', key, bucket.head(key))
  const upload = (u: Upload, size: number | undefined) => {
    if (size === undefined) return bufferedPut(u, bufferedPartSize)
    if (size <= singlePutLimit || size === 0) return singlePut(u, size)
    return multipartPut(u, size, partLengthFor(size, partSize))
  }

  return {
    name: 'r2',

    async stat(key) {
      const o = await head(checkKey(key))
      return o && infoOf(o)
    },

    async get(key, range) {
      checkKey(key)
      if (range) checkShape(range, key)
      if (range?.length === 0) {
        const o = await head(key)
        return o && { info: infoOf(o), range: checkRange(range, o.size, key), body: empty() }
      }
      let o
      try {
        const options = range && { range: { offset: range.offset, length: range.length } }
        o = await bucket.get(key, options)
      } catch (err) {
        // 10039: not satisfiable, i.e. the range starts past the end (or the key is gone).
        const h = range && r2Code(err) === 10039 ? await head(key) : undefined
        if (h === null) return null
        if (h) checkRange(range, h.size, key)
        throw r2Error('get', key, err)
      }
      if (!o) return null
      try {
        const r = checkRange(range, o.size, key)
        return { info: infoOf(o), range: r, body: o.body } satisfies ObjectBody
      } catch (err) {
        void o.body.cancel().catch(() => {})
        throw err
      }
    },

    async put(key, body, opts = {}) {
      const { signal } = opts
      const size = opts.size ?? (body instanceof Uint8Array ? body.byteLength : undefined)
      let feed: Feed | undefined
      try {
        checkKey(key)
        fixedLengthStream()
        if (size !== undefined && size > R2_MAX_OBJECT) {
          throw new StorageError(`r2: put ${key}: ${size} bytes is more than R2 can store`)
        }
        feed = new Feed(verifiedChunks(body, opts))
        return infoOf(await upload({ bucket, key, feed, sha256: opts.sha256, signal }, size))
      } catch (err) {
        discard(body, err)
        throw signal?.aborted ? signal.reason : err
      } finally {
        await feed?.close()
      }
    },

    async delete(key) {
      // R2's delete says nothing about what was there; head first (a racing put may win).
      if (!(await head(checkKey(key)))) return false
      await r2('delete', key, bucket.delete(key))
      return true
    },

    async *list(prefix) {
      checkPrefix(prefix)
      let cursor: string | undefined
      do {
        const page = await r2('list', prefix, bucket.list({ prefix, cursor, limit: listLimit }))
        for (const o of page.objects) yield o.key
        cursor = page.truncated ? page.cursor : undefined
      } while (cursor)
    },
  }
}

function option(
  name: string,
  value: number | undefined,
  dflt: number,
  min: number,
  max = R2_MAX_PUT
): number {
  const v = value ?? dflt
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new RangeError(`r2: ${name} must be an integer from ${min} to ${max}, not ${value}`)
  }
  return v
}

// R2 answers odd ranges in odd ways; only well-formed ones reach it.
function checkShape({ offset, length }: ByteRange, key: string): void {
  const whole = Number.isSafeInteger(offset) && Number.isSafeInteger(length)
  if (!whole || offset < 0 || length < 0) {
    throw new StorageError(`invalid range ${offset}+${length} for ${key}`)
  }
}

const empty = () => new ReadableStream<Uint8Array>({ start: (c) => c.close() })
