/**
 * The R2 driver's write paths. R2 takes a stream only with a length known up front (the
 * readable half of workerd's FixedLengthStream), and it commits a single put as soon as that
 * many bytes have arrived, before the writer closes (measured in Miniflare). So:
 *
 * - Known size: one streamed put that holds back one chunk. The last bytes go out only after
 *   the whole body has passed verifiedChunks (size, sha256, end of body), so a body that is
 *   longer than announced, or whose digest is wrong without `sha256` to let R2 refuse it,
 *   never completes the object. R2 also gets the sha256 and checks it itself.
 * - Known size beyond the single-put limit: a multipart upload with equal parts (R2 refuses
 *   unequal ones), each streamed through its own FixedLengthStream, a chunk split where it
 *   crosses a part boundary. Nothing is buffered; complete() runs only after verification.
 * - Unknown size: a part cannot start before its length is known, and only a body that has
 *   gone past a part's end proves the part is full. Each part is therefore held in memory
 *   (bufferedPartSize plus one chunk of lookahead) and sent once full; a body that ends
 *   within the first part becomes a single put.
 *
 * Every failure aborts the multipart upload or the put; the key changes only on success.
 */
import { DigestMismatchError, hex, type Digest } from '../oci/digest.ts'
import { StorageError } from './driver.ts'
import { fixedLength, type Feed, type Write } from './r2-streams.ts'
import type { R2Bucket, R2Object, R2UploadedPart } from './r2-types.ts'

const MiB = 1 << 20
/** R2's limit for one put or one part: 5 GiB minus 5 MiB. */
export const R2_MAX_PUT = 5 * 1024 * MiB - 5 * MiB
/** R2's smallest part (all but the last). */
export const R2_MIN_PART = 5 * MiB
/** R2's most parts in one multipart upload. */
export const R2_MAX_PARTS = 10_000
/** R2's largest object: 5 TiB minus 5 GiB. */
export const R2_MAX_OBJECT = 5 * 1024 * 1024 * MiB - 5 * 1024 * MiB

/** Where the driver's writes go, with what they need to know. */
export interface Upload {
  readonly bucket: R2Bucket
  readonly key: string
  readonly feed: Feed
  readonly sha256?: string
  readonly signal?: AbortSignal
}

/** One streamed put of exactly `size` bytes, its last chunk held back until verified. */
export async function singlePut(u: Upload, size: number): Promise<R2Object> {
  return putHeld(u, size, async (write) => {
    let held = await u.feed.take(Infinity)
    while (held) {
      const next = await u.feed.take(Infinity)
      await write(held)
      held = next
    }
  })
}

/** A multipart upload of exactly `size` bytes in `partLength` parts, streamed. */
export async function multipartPut(u: Upload, size: number, partLength: number): Promise<R2Object> {
  return multipart(u, async (send) => {
    for (let left = size; left > 0; ) {
      const len = Math.min(partLength, left)
      await send(len, async (write) => {
        for (let need = len; need > 0; ) {
          const c = await u.feed.take(need)
          if (!c) throw new StorageError(`r2: put ${u.key}: body ended early`)
          await write(c)
          need -= c.byteLength
        }
      })
      left -= len
    }
    // Drives the verifying generator to its end: size and digest are checked there.
    if (await u.feed.take(1)) throw new StorageError(`r2: put ${u.key}: body longer than ${size}`)
  })
}

/** A body of unknown length: buffered part by part, a single put if it fits in the first. */
export async function bufferedPut(u: Upload, partLength: number): Promise<R2Object> {
  let held: Uint8Array[] = []
  let heldBytes = 0
  const hold = (c: Uint8Array) => {
    held.push(c)
    heldBytes += c.byteLength
  }
  // Fills the part, then reads past its end: the lookahead that tells a full part from the
  // last one. True when more follows; the extra bytes are then the last entry of `held`.
  const more = async (): Promise<boolean> => {
    for (let c; heldBytes < partLength && (c = await u.feed.take(partLength - heldBytes)); ) hold(c)
    const c = heldBytes === partLength ? await u.feed.take(partLength) : undefined
    if (c) hold(c)
    return c !== undefined
  }
  const sendHeld = async (write: Write) => {
    for (const c of held) await write(c)
  }

  // The whole body fits one part and has been verified: a single put is enough.
  if (!(await more())) return putHeld(u, heldBytes, sendHeld)
  return multipart(u, async (send) => {
    do {
      const next = held.pop()!
      heldBytes -= next.byteLength
      await send(heldBytes, sendHeld)
      held = []
      heldBytes = 0
      hold(next)
    } while (await more())
    await send(heldBytes, sendHeld)
  })
}

type Send = (length: number, produce: (write: Write) => Promise<void>) => Promise<void>

// Runs `body` against an open multipart upload, completing it only if `body` succeeds.
async function multipart(u: Upload, body: (send: Send) => Promise<void>): Promise<R2Object> {
  const upload = await r2('create multipart upload', u.key, u.bucket.createMultipartUpload(u.key))
  const parts: R2UploadedPart[] = []
  try {
    await body(async (length, produce) => {
      const n = parts.length + 1
      if (n > R2_MAX_PARTS) {
        throw new StorageError(`r2: put ${u.key}: the body needs more than ${R2_MAX_PARTS} parts`)
      }
      const consume = (r: ReadableStream<Uint8Array>) =>
        r2(`upload part ${n} of`, u.key, upload.uploadPart(n, r))
      parts.push(await fixedLength(u.signal, length, consume, produce))
    })
    u.signal?.throwIfAborted()
    return await r2('complete', u.key, upload.complete(parts))
  } catch (err) {
    await upload.abort().catch(() => {})
    throw err
  }
}

// A single put fed by `produce`; R2 checks the sha256 too.
function putHeld(u: Upload, size: number, produce: (write: Write) => Promise<void>) {
  const options = u.sha256 === undefined ? {} : { sha256: hex(u.sha256 as Digest) }
  const put = async (r: ReadableStream<Uint8Array>) => {
    try {
      const o = await u.bucket.put(u.key, r, options)
      if (!o) throw new Error('put returned nothing')
      return o
    } catch (err) {
      // 10037: R2 computed another sha256 than the one it was given.
      if (r2Code(err) === 10037) {
        const actual = /Actual SHA-256 was: ([a-f0-9]{64})/.exec(message(err))?.[1] ?? 'unknown'
        throw new DigestMismatchError(u.sha256!, `sha256:${actual}`)
      }
      throw r2Error('put', u.key, err)
    }
  }
  return fixedLength(u.signal, size, put, produce)
}

/** Awaits an R2 call, turning its failure into a StorageError that names the operation. */
export async function r2<T>(op: string, key: string, call: Promise<T>): Promise<T> {
  try {
    return await call
  } catch (err) {
    throw r2Error(op, key, err)
  }
}

/** R2 error codes end the message in parentheses, e.g. `(10039)` for an unsatisfiable range. */
export const r2Code = (err: unknown): number | undefined =>
  Number(/\((\d{5})\)\s*$/.exec(message(err))?.[1]) || undefined

/** An R2 failure as a StorageError that names the operation and key. */
export const r2Error = (op: string, key: string, err: unknown): StorageError =>
  new StorageError(`r2: ${op} ${key}: ${message(err)}`, { cause: err })

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err))
