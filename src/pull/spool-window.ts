/**
 * The fallback spool for drivers that cannot read a put back while it runs (R2): the last
 * `capacity` bytes of a fill, kept in memory. A reader that falls behind the window waits for
 * the fill to commit and reads the rest from the store, so memory stays flat however many
 * readers there are and however large the blob.
 */
import { StorageError } from '../storage/driver.ts'

/** A read that asked for bytes the window no longer holds. */
export class EvictedError extends StorageError {
  override name = 'EvictedError'
}

/** A sliding window over a byte stream: append at the end, read anywhere inside. */
export class SpoolWindow {
  private chunks: Uint8Array[] = []
  private held = 0
  /** Offset of the first byte still held. */
  private start = 0

  private readonly capacity: number

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity)
  }

  /** Bytes appended so far. */
  get end(): number {
    return this.start + this.held
  }

  /** Appends a chunk (copied: the producer may reuse its buffer) and drops what falls out. */
  push(chunk: Uint8Array): void {
    this.chunks.push(chunk.slice())
    this.held += chunk.byteLength
    while (this.held - this.chunks[0]!.byteLength >= this.capacity) {
      const dropped = this.chunks.shift()!
      this.held -= dropped.byteLength
      this.start += dropped.byteLength
    }
  }

  /** Bytes [offset, offset+length); EvictedError when they are no longer (all) held. */
  read = async (offset: number, length: number): Promise<Uint8Array> => {
    if (offset < this.start) throw new EvictedError(`offset ${offset} left the fill window`)
    if (offset + length > this.end) {
      throw new StorageError(`window read ${offset}+${length} beyond ${this.end}`)
    }
    const out = new Uint8Array(length)
    let chunkStart = this.start
    let filled = 0
    for (const c of this.chunks) {
      const chunkEnd = chunkStart + c.byteLength
      if (chunkEnd > offset + filled && filled < length) {
        const from = offset + filled - chunkStart
        const n = Math.min(c.byteLength - from, length - filled)
        out.set(c.subarray(from, from + n), filled)
        filled += n
      }
      chunkStart = chunkEnd
      if (filled === length) break
    }
    return out
  }
}
