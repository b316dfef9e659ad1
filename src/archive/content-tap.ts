/**
 * A pass-through stream that learns what flows through it: the compression (from the magic
 * bytes) and, for gzip, the sha256 of the decompressed bytes, i.e. a layer's DiffID, computed
 * while the compressed bytes stream on to wherever they go. Decompression is a side channel:
 * bytes that only look like gzip leave the DiffID unknown instead of failing the stream.
 */
import { Sha256Counter, type Digest } from '../oci/digest.ts'
import { concatBytes } from '../oci/bytes.ts'
import { detectCompression, MAGIC_LENGTH, type Compression } from './compression.ts'

/** What a tap learnt once its stream has ended. */
export interface TapResult {
  compression: Compression | null
  /** sha256 of the decompressed bytes (gzip only); null when not gzip or not decodable. */
  uncompressedDigest: Digest | null
}

/** A tap: put `stream` in the pipe, then await `result()` once the pipe has finished. */
export interface ContentTap {
  stream: TransformStream<Uint8Array, Uint8Array>
  result(): Promise<TapResult>
}

/** Creates a tap. */
export function contentTap(): ContentTap {
  let head: Uint8Array[] = []
  let headLength = 0
  let compression: Compression | null | undefined
  let gunzip: Gunzip | null = null

  const decide = async () => {
    const bytes = concatBytes(head, headLength)
    compression = detectCompression(bytes)
    if (compression === 'gzip') {
      gunzip = startGunzip()
      for (const chunk of head) await gunzip.feed(chunk)
    }
    head = []
  }

  const stream = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      controller.enqueue(chunk)
      if (compression !== undefined) return gunzip?.feed(chunk)
      head.push(chunk.slice())
      headLength += chunk.byteLength
      if (headLength >= MAGIC_LENGTH) await decide()
    },
    async flush() {
      if (compression === undefined) await decide()
    },
  })

  return {
    stream,
    async result() {
      return {
        compression: compression ?? null,
        uncompressedDigest: gunzip ? await (gunzip as Gunzip).finish() : null,
      }
    },
  }
}

interface Gunzip {
  feed(chunk: Uint8Array): Promise<void>
  /** The digest of everything decompressed; null when the data was not valid gzip. */
  finish(): Promise<Digest | null>
}

function startGunzip(): Gunzip {
  const ds = new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>
  const writer = ds.writable.getWriter()
  const hash = new Sha256Counter()
  let failed = false
  const drained = (async () => {
    const reader = ds.readable.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      hash.update(value)
    }
  })().catch(() => {
    failed = true
  })
  return {
    async feed(chunk) {
      if (failed) return
      try {
        await writer.ready
        // A copy: the original goes on downstream, and a decompressor may keep what it is given.
        writer.write(chunk.slice()).catch(() => (failed = true))
      } catch {
        failed = true
      }
    },
    async finish() {
      if (!failed) await writer.close().catch(() => (failed = true))
      await drained
      return failed ? null : hash.digest()
    },
  }
}
