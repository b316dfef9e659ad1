/**
 * Exact-length reads over a stream of arbitrary chunks: what a tar parser needs from a
 * network body. Body bytes are handed out as views of the chunks that arrived (no copies);
 * only a header that straddles two chunks is assembled.
 */
export class ByteReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>
  private pending: Uint8Array | null = null
  private ended = false

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader()
  }

  /** Up to `max` (> 0) bytes, as soon as some are there; null at the end of the stream. */
  async read(max: number): Promise<Uint8Array | null> {
    if (!this.pending) {
      if (this.ended) return null
      for (;;) {
        const { done, value } = await this.reader.read()
        if (done) {
          this.ended = true
          return null
        }
        if (value.byteLength) {
          this.pending = value
          break
        }
      }
    }
    const chunk = this.pending!
    if (chunk.byteLength <= max) {
      this.pending = null
      return chunk
    }
    this.pending = chunk.subarray(max)
    return chunk.subarray(0, max)
  }

  /** Exactly `n` bytes; null when the stream ends before the first, UnexpectedEndError midway. */
  async readExact(n: number): Promise<Uint8Array | null> {
    const first = await this.read(n)
    if (!first || first.byteLength === n) return first
    const out = new Uint8Array(n)
    out.set(first)
    let at = first.byteLength
    while (at < n) {
      const next = await this.read(n - at)
      if (!next) throw new UnexpectedEndError()
      out.set(next, at)
      at += next.byteLength
    }
    return out
  }

  /** Discards `n` bytes; throws UnexpectedEndError when the stream is shorter. */
  async skip(n: number): Promise<void> {
    while (n > 0) {
      const chunk = await this.read(n)
      if (!chunk) throw new UnexpectedEndError()
      n -= chunk.byteLength
    }
  }

  /** Stops reading: cancels the underlying stream. */
  cancel(reason?: unknown): void {
    this.pending = null
    this.ended = true
    void this.reader.cancel(reason).catch(() => {})
  }
}

/** The stream ended in the middle of something. */
export class UnexpectedEndError extends Error {
  override name = 'UnexpectedEndError'
  constructor() {
    super('unexpected EOF')
  }
}
