/**
 * Compression sniffed from magic bytes, as moby's DecompressStream does. Only gzip can be
 * undone here (DecompressionStream is the one decompressor every runtime has); the others
 * are recognised so that the error names them.
 */

/** A compression format recognised by its magic bytes. */
export type Compression = 'gzip' | 'bzip2' | 'xz' | 'zstd'

const MAGIC: [Compression, number[]][] = [
  ['gzip', [0x1f, 0x8b, 0x08]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
]

/** Bytes needed to recognise every format. */
export const MAGIC_LENGTH = 6

/** The compression `head` (the first bytes of a stream) starts with; null when plain. */
export function detectCompression(head: Uint8Array): Compression | null {
  for (const [name, magic] of MAGIC) {
    if (head.byteLength >= magic.length && magic.every((b, i) => head[i] === b)) return name
  }
  return null
}

/** Reads the first `n` bytes (fewer if the stream is shorter) and returns them with an intact stream. */
export async function peek(
  stream: ReadableStream<Uint8Array>,
  n: number
): Promise<{ head: Uint8Array; stream: ReadableStream<Uint8Array> }> {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let have = 0
  let done = false
  while (have < n) {
    const r = await reader.read()
    if (r.done) {
      done = true
      break
    }
    chunks.push(r.value)
    have += r.value.byteLength
  }
  const head = new Uint8Array(have)
  let at = 0
  for (const c of chunks) {
    head.set(c, at)
    at += c.byteLength
  }
  const rest = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (head.byteLength) controller.enqueue(head)
        if (done) controller.close()
      },
      async pull(controller) {
        const r = await reader.read()
        if (r.done) controller.close()
        else controller.enqueue(r.value)
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 }
  )
  return { head: head.subarray(0, Math.min(n, have)), stream: rest }
}

/** A compression this runtime cannot undo. */
export class UnsupportedCompressionError extends Error {
  override name = 'UnsupportedCompressionError'
  constructor(readonly compression: Compression) {
    super(`unsupported compression format ${compression}`)
  }
}

/** What a gzip stream may unpack to. */
export interface InflateLimits {
  /** Bytes in all (`limits.bodyBytes`: a plain archive could not be larger either). */
  maxBytes: number
  /** Times its compressed size, checked once past RATIO_FLOOR (`limits.gzipRatio`). */
  ratio: number
}

// Below this much unpacked, any ratio is fine: small archives of zeros are no threat.
const RATIO_FLOOR = 64 << 20

/** A gzip stream that unpacks beyond its InflateLimits: a gzip bomb. */
export class InflateLimitError extends Error {
  override name = 'InflateLimitError'
}

/** Undecodable gzip data. */
export class CompressedDataError extends Error {
  override name = 'CompressedDataError'
}

/**
 * `stream` decompressed when it is gzip, as is when it is plain; throws for other formats.
 * With `limits`, unpacking stops (the stream errors with InflateLimitError) at the first
 * chunk beyond them, before it is passed on.
 */
export async function decompressed(
  stream: ReadableStream<Uint8Array>,
  limits?: InflateLimits
): Promise<ReadableStream<Uint8Array>> {
  const p = await peek(stream, MAGIC_LENGTH)
  const kind = detectCompression(p.head)
  if (kind === null) return p.stream
  if (kind !== 'gzip') {
    void p.stream.cancel().catch(() => {})
    throw new UnsupportedCompressionError(kind)
  }
  const gunzip = new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>
  let packed = 0
  let unpacked = 0
  let inputError: unknown
  const reader = p.stream.getReader()
  const input = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let r
        try {
          r = await reader.read()
        } catch (err) {
          inputError = err
          throw err
        }
        if (r.done) return controller.close()
        packed += r.value.byteLength
        controller.enqueue(r.value)
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 }
  )
  const output = input.pipeThrough(gunzip).getReader()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let r
        try {
          r = await output.read()
        } catch (err) {
          // The input's own failure (a body too large, a client gone) passes unchanged.
          if (err === inputError) throw err
          throw new CompressedDataError(`invalid gzip data: ${(err as Error)?.message ?? err}`)
        }
        if (r.done) return controller.close()
        unpacked += r.value.byteLength
        if (limits) checkInflate(limits, packed, unpacked)
        controller.enqueue(r.value)
      },
      cancel: (reason) => output.cancel(reason),
    },
    { highWaterMark: 0 }
  )
}

function checkInflate(limits: InflateLimits, packed: number, unpacked: number): void {
  if (unpacked > limits.maxBytes) {
    throw new InflateLimitError(`gzip data unpacks to more than ${limits.maxBytes} bytes (limits.bodyBytes)`)
  }
  if (unpacked > RATIO_FLOOR && unpacked > packed * limits.ratio) {
    throw new InflateLimitError(
      `gzip data unpacks to more than ${limits.ratio} times its size (limits.gzipRatio)`
    )
  }
}
