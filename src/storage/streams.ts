/**
 * Plumbing shared by the drivers and the stores above them: verified put bodies, bounded
 * reads, range checks. Web-standard only, so the R2 driver can use it too.
 */
import { DigestMismatchError, isDigest, Sha256Counter } from '../oci/digest.ts'
import { concatBytes } from '../oci/bytes.ts'
import { StorageError, type ByteRange, type PutOptions } from './driver.ts'

/** 1 MiB: how much drivers read or write at a time (small chunks are slow on Node's streams). */
export const IO_CHUNK = 1 << 20

/**
 * Yields a put body's chunks while checking `size` and `sha256`, and throws on a mismatch, a
 * body error or an abort, cancelling the body. The loop ends normally only when every check
 * passed, so a driver that commits after its `for await` never commits wrong bytes.
 */
export async function* verifiedChunks(
  body: ReadableStream<Uint8Array> | Uint8Array,
  { size, sha256, signal }: PutOptions = {}
): AsyncGenerator<Uint8Array, void, undefined> {
  if (sha256 !== undefined && !isDigest(sha256)) throw new StorageError(`not a sha256: ${sha256}`)
  if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
    throw new StorageError(`invalid size ${size}`)
  }
  if (body instanceof ReadableStream && signal?.aborted) await body.cancel(signal.reason)
  signal?.throwIfAborted()
  const hash = sha256 === undefined ? undefined : new Sha256Counter()
  let seen = 0
  const count = (chunk: Uint8Array) => {
    hash?.update(chunk)
    seen += chunk.byteLength
    if (size !== undefined && seen > size) throw sizeMismatch(size, `more than ${size}`)
  }

  if (body instanceof Uint8Array) {
    count(body)
    yield body
  } else {
    const reader = body.getReader()
    // Cancelling ends a read that is stuck waiting on a stalled body.
    const onAbort = () => void reader.cancel(signal?.reason).catch(() => {})
    signal?.addEventListener('abort', onAbort, { once: true })
    let drained = false
    try {
      for (;;) {
        const { done, value } = await reader.read()
        signal?.throwIfAborted()
        if (done) break
        count(value)
        yield value
        signal?.throwIfAborted()
      }
      drained = true
    } finally {
      signal?.removeEventListener('abort', onAbort)
      if (!drained) void reader.cancel(signal?.reason).catch(() => {})
    }
  }

  // A Uint8Array body is written while the loop is suspended; an abort then lands here.
  signal?.throwIfAborted()
  if (size !== undefined && seen !== size) throw sizeMismatch(size, String(seen))
  const actual = hash?.digest()
  if (actual !== undefined && actual !== sha256) throw new DigestMismatchError(sha256!, actual)
}

function sizeMismatch(expected: number, got: string): DigestMismatchError {
  return new DigestMismatchError(
    `size ${expected}`,
    `size ${got}`,
    `size mismatch: expected ${expected} bytes, got ${got}`
  )
}

/**
 * A byte stream over `next` (null: the end) that reads one chunk ahead once it is being read:
 * the next chunk is fetched while the consumer writes this one out, so disk reads and socket
 * writes overlap. Nothing is fetched before the first read (a body dropped unread, as for
 * HEAD, opens nothing); `cancel` runs once the read ahead has settled.
 */
export function readAhead(
  next: () => Promise<Uint8Array | null>,
  cancel: (reason: unknown) => Promise<void> | void
): ReadableStream<Uint8Array> {
  let ahead: Promise<Uint8Array | null> | undefined
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const chunk = await (ahead ?? next())
        ahead = undefined
        if (!chunk) return controller.close()
        controller.enqueue(chunk)
        ahead = next()
        ahead.catch(() => {}) // a failure surfaces at the next pull
      },
      async cancel(reason) {
        await ahead?.catch(() => {})
        await cancel(reason)
      },
    },
    { highWaterMark: 0 }
  )
}

/** Cancels a put body that will not be read (a put that failed before reading it). */
export function discard(body: ReadableStream<Uint8Array> | Uint8Array, reason: unknown): void {
  if (body instanceof ReadableStream && !body.locked) void body.cancel(reason).catch(() => {})
}

/** Reads a whole stream into one array; throws (and cancels) past `maxBytes`. */
export async function readFully(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  what = 'object'
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let total = 0
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      void reader.cancel().catch(() => {})
      throw new StorageError(`${what} is larger than ${maxBytes} bytes`)
    }
    chunks.push(value)
  }
  return concatBytes(chunks, total)
}

/** Resolves `get`'s optional range against the object size; throws when it does not fit. */
export function checkRange(range: ByteRange | undefined, size: number, key: string): ByteRange {
  if (!range) return { offset: 0, length: size }
  const { offset, length } = range
  const valid = Number.isSafeInteger(offset) && Number.isSafeInteger(length)
  if (!valid || offset < 0 || length < 0 || offset + length > size) {
    throw new StorageError(`range ${offset}+${length} outside ${key} (${size} bytes)`)
  }
  return { offset, length }
}

/**
 * `range` of `bytes` as a stream, copied out in IO_CHUNK slices so a reader that transfers or
 * mutates them cannot touch the store's copy.
 */
export function rangeStream(bytes: Uint8Array, range: ByteRange): ReadableStream<Uint8Array> {
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
