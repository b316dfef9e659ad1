/**
 * Stream plumbing for the R2 driver: cutting verified chunks to part boundaries, and pumping
 * bytes into R2 through workerd's FixedLengthStream (R2 refuses streams of unknown length).
 */
import { StorageError } from './driver.ts'
import type { FixedLengthStreamConstructor } from './r2-types.ts'

/** Writes one chunk into whatever R2 is reading. */
export type Write = (chunk: Uint8Array) => Promise<void>

/** Hands out verified chunks, at most `max` bytes at a time; undefined once the body ended. */
export class Feed {
  private carry: Uint8Array | undefined
  constructor(private readonly chunks: AsyncIterator<Uint8Array>) {}

  async take(max: number): Promise<Uint8Array | undefined> {
    let c = this.carry
    this.carry = undefined
    while (!c?.byteLength) {
      const r = await this.chunks.next()
      if (r.done) return undefined
      c = r.value
    }
    if (c.byteLength > max) {
      this.carry = c.subarray(max)
      c = c.subarray(0, max)
    }
    return c
  }

  /** Stops reading; the verifying generator cancels the body if it did not end. */
  async close(): Promise<void> {
    await this.chunks.return?.()
  }
}

/**
 * Runs `consume` on the readable half of a FixedLengthStream(length) while `produce` writes
 * the bytes. A producer error (the body's, a mismatch, an abort) errors the stream, so R2
 * stores nothing; a write that fails because R2 gave up reports R2's error instead.
 */
export async function fixedLength<T>(
  signal: AbortSignal | undefined,
  length: number,
  consume: (readable: ReadableStream<Uint8Array>) => Promise<T>,
  produce: (write: Write) => Promise<void>
): Promise<T> {
  const { readable, writable } = new (fixedLengthStream())(length)
  const consumed = consume(readable)
  consumed.catch(() => {})
  const writer = writable.getWriter()
  const onAbort = () => void writer.abort(signal?.reason).catch(() => {})
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await produce(async (chunk) => {
      try {
        await writer.write(chunk)
      } catch (err) {
        throw await consumed.then(() => err, (e: unknown) => e)
      }
    })
    await writer.close()
  } catch (err) {
    void writer.abort(err).catch(() => {})
    await consumed.catch(() => {})
    throw err
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
  return consumed
}

/** workerd's FixedLengthStream, or a StorageError naming the runtime it needs. */
export function fixedLengthStream(): FixedLengthStreamConstructor {
  const g = globalThis as { FixedLengthStream?: FixedLengthStreamConstructor }
  const ctor = g.FixedLengthStream
  if (typeof ctor !== 'function') {
    throw new StorageError(
      'r2: FixedLengthStream is missing: R2 puts need the Workers runtime (workerd), ' +
        'where a streamed put must announce its length'
    )
  }
  return ctor
}
