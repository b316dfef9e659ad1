/**
 * A pass-through check that a stream is one whole tar archive: every header's checksum is
 * valid and the stream ends at an entry boundary (or after the zero block that closes the
 * archive), as Go's archive/tar reader, which dockerd applies imports with, requires. A
 * truncated upload must not become a layer.
 */
import { ImageError } from './errors.ts'

const BLOCK = 512

/** Errors the stream (ImageError 400) when its bytes are not a complete tar archive. */
export function tarCheck(): TransformStream<Uint8Array, Uint8Array> {
  const header = new Uint8Array(BLOCK)
  let filled = 0
  let skip = 0 // bytes of entry data (with padding) still to pass
  let entries = 0
  let ended = false
  return new TransformStream({
    transform(chunk, controller) {
      let at = 0
      while (at < chunk.byteLength && !ended) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.byteLength - at)
          skip -= n
          at += n
          continue
        }
        const n = Math.min(BLOCK - filled, chunk.byteLength - at)
        header.set(chunk.subarray(at, at + n), filled)
        filled += n
        at += n
        if (filled < BLOCK) continue
        filled = 0
        if (header.every((b) => b === 0)) {
          ended = true // anything after the end marker is ignored, as Go's reader does
          continue
        }
        const size = entrySize(header, entries)
        skip = Math.ceil(size / BLOCK) * BLOCK
        entries++
      }
      controller.enqueue(chunk)
    },
    flush() {
      if (ended) return
      if (entries === 0 && filled === 0) throw invalid('the body is not a tar archive')
      if (filled > 0 || skip > 0) throw invalid('unexpected EOF: the tar archive is truncated')
    },
  })
}

const invalid = (why: string) => new ImageError(400, `invalid tar: ${why}`)

/** The entry's data size, after checking the header's checksum. */
function entrySize(h: Uint8Array, index: number): number {
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!
  if (octal(h.subarray(148, 156)) !== sum) {
    throw invalid(
      index === 0 ? 'the body is not a tar archive' : `bad header checksum in entry ${index + 1}`
    )
  }
  const field = h.subarray(124, 136)
  if (field[0]! & 0x80) {
    // GNU base-256 for sizes of 8 GiB and more
    let n = 0
    for (let i = 1; i < field.byteLength; i++) n = n * 256 + field[i]!
    return n
  }
  return octal(field)
}

function octal(field: Uint8Array): number {
  const text = new TextDecoder().decode(field).replace(/\0.*$/s, '').trim()
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : text === '' ? 0 : NaN
}
