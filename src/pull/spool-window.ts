/**
 * The last `capacity` bytes of a fill, kept in memory in IO_CHUNK blocks and shared by every
 * reader. Readers near the head (all of them, when several clients want one blob at once) get
 * views of these blocks: no copy and no file read per reader, and writes of a size sockets
 * like. One that falls behind reads the driver's temp file (fs, memory) or waits for the
 * commit (R2). The blocks are also what the store's put receives, so gathering upstream's
 * small chunks costs one copy per fill, which the put would otherwise make itself. Memory
 * stays flat however many readers there are and however large the blob.
 */
import { StorageError } from '../storage/driver.ts'
import { IO_CHUNK } from '../storage/streams.ts'

/** A read that asked for bytes the window no longer holds. */
export class EvictedError extends StorageError {
  override name = 'EvictedError'
}

/** A sliding window over a byte stream: append at the end, read anywhere inside. */
export class SpoolWindow {
  /** Full blocks, then the one being filled (if any); block i starts at start + i·blockSize. */
  private blocks: Uint8Array[] = []
  private filling = false
  /** Offset of the first byte still held. */
  start = 0
  /** Bytes appended so far. */
  end = 0

  private readonly capacity: number

  constructor(
    capacity: number,
    private readonly blockSize = IO_CHUNK
  ) {
    this.capacity = Math.max(1, capacity)
  }

  /**
   * Appends a copy of `chunk` and returns the blocks it completed, in order; the caller may
   * hand those on (nothing writes into a block once it is full). Drops what falls out.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const full: Uint8Array[] = []
    for (let at = 0; at < chunk.byteLength; ) {
      if (!this.filling) {
        this.blocks.push(new Uint8Array(this.blockSize))
        this.filling = true
      }
      const used = (this.end - this.start) % this.blockSize
      const n = Math.min(chunk.byteLength - at, this.blockSize - used)
      const block = this.blocks[this.blocks.length - 1]!
      block.set(chunk.subarray(at, at + n), used)
      at += n
      this.end += n
      if (used + n === this.blockSize) {
        this.filling = false
        full.push(block)
      }
    }
    while (this.blocks.length > 1 && this.end - this.start - this.blockSize >= this.capacity) {
      this.blocks.shift()
      this.start += this.blockSize
    }
    return full
  }

  /** The block being filled, as far as it is, at the end of the stream; no more pushes. */
  finish(): Uint8Array | undefined {
    if (!this.filling) return undefined
    this.filling = false
    const last = this.blocks[this.blocks.length - 1]!
    return last.subarray(0, this.end - this.start - (this.blocks.length - 1) * this.blockSize)
  }

  /**
   * Up to `length` bytes from `offset`, as a view of the block holding `offset` (so a reader
   * may get fewer bytes than asked). EvictedError once they left the window.
   */
  read(offset: number, length: number): Uint8Array {
    if (offset < this.start) throw new EvictedError(`offset ${offset} left the fill window`)
    if (offset >= this.end || length <= 0) {
      throw new StorageError(`window read ${offset}+${length} outside ${this.start}–${this.end}`)
    }
    const i = Math.floor((offset - this.start) / this.blockSize)
    const blockStart = this.start + i * this.blockSize
    const blockEnd = Math.min(blockStart + this.blockSize, this.end)
    const from = offset - blockStart
    return this.blocks[i]!.subarray(from, from + Math.min(length, blockEnd - offset))
  }
}
