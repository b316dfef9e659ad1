/**
 * A pass-through check that a stream is one whole, safe tar archive, as dockerd's import
 * needs it: every header valid (Go's archive/tar reader, which dockerd applies layers with),
 * the stream ending at an entry boundary or after the zero block, and, as moby's UnpackLayer
 * refuses them, no name or link that leaves the root (`../x`, a symlink climbing out).
 * Absolute names and link targets are read from the root, as UnpackLayer joins them. Only
 * headers are looked at, so memory stays flat however many entries come; a truncated upload
 * or a hostile tar must not become a layer.
 */
import { archivePath, hardlinkTarget, symlinkTarget } from '../archive/paths.ts'
import { BLOCK, padded, TarError } from '../archive/tar-header.ts'
import { decodeHeader, HeaderFolding, isZeroBlock } from '../archive/tar-parse.ts'
import { ImageError } from './errors.ts'

/** Limits of tarCheck. */
export interface TarCheckOptions {
  /** The largest entry accepted (`limits.bodyBytes`): a header may claim anything. */
  maxEntryBytes?: number
}

// PAX headers and GNU long names are read into memory; real ones are a few hundred bytes.
const MAX_METADATA = 1 << 20

/** Errors the stream (ImageError 400, or 413 for an oversized entry) when it is not fit. */
export function tarCheck({ maxEntryBytes = Infinity }: TarCheckOptions = {}): TransformStream<
  Uint8Array,
  Uint8Array
> {
  const header = new Uint8Array(BLOCK)
  let filled = 0
  let skip = 0 // bytes of entry data (with padding) still to pass
  let meta: { flag: string; bytes: Uint8Array; at: number } | null = null
  const folding = new HeaderFolding()
  let entries = 0
  let ended = false

  const onHeader = () => {
    if (isZeroBlock(header)) {
      ended = true // anything after the end marker is ignored, as Go's reader does
      return
    }
    let raw
    try {
      raw = decodeHeader(header)
    } catch {
      throw invalid(entries === 0 ? 'the body is not a tar archive' : `bad header in entry ${entries + 1}`)
    }
    entries++
    if (HeaderFolding.isMetadata(raw.flag)) {
      if (raw.size > MAX_METADATA) throw invalid(`extended header of ${raw.size} bytes`)
      meta = { flag: raw.flag, bytes: new Uint8Array(raw.size), at: 0 }
      if (raw.size === 0) onMeta()
      return
    }
    const { name, linkname: link, size } = tarTerms(() => folding.entry(raw))
    if (size > maxEntryBytes) {
      const why = `${JSON.stringify(name)} claims ${size} bytes, more than the body may hold`
      throw new ImageError(413, `invalid tar: ${why} (limits.bodyBytes)`)
    }
    checkNames(name, raw.flag, link)
    skip = padded(size)
  }

  const onMeta = () => {
    const { flag, bytes } = meta!
    meta = null
    skip = padded(bytes.byteLength) - bytes.byteLength
    tarTerms(() => folding.metadata(flag, bytes))
  }

  return new TransformStream({
    transform(chunk, controller) {
      let at = 0
      while (at < chunk.byteLength && !ended) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.byteLength - at)
          skip -= n
          at += n
        } else if (meta) {
          const n = Math.min(meta.bytes.byteLength - meta.at, chunk.byteLength - at)
          meta.bytes.set(chunk.subarray(at, at + n), meta.at)
          meta.at += n
          at += n
          if (meta.at === meta.bytes.byteLength) onMeta()
        } else {
          const n = Math.min(BLOCK - filled, chunk.byteLength - at)
          header.set(chunk.subarray(at, at + n), filled)
          filled += n
          at += n
          if (filled < BLOCK) continue
          filled = 0
          onHeader()
        }
      }
      controller.enqueue(chunk)
    },
    flush() {
      if (ended) return
      if (entries === 0 && filled === 0) throw invalid('the body is not a tar archive')
      if (filled > 0 || skip > 0 || meta) throw invalid('unexpected EOF: the tar archive is truncated')
    },
  })
}

const invalid = (why: string) => new ImageError(400, `invalid tar: ${why}`)

/** `fn`'s result, with a malformed-tar TarError turned into the route's 400. */
function tarTerms<T>(fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof TarError) throw invalid(err.message)
    throw err
  }
}

// moby's breakout checks: names and link targets stay under the root.
function checkNames(name: string, flag: string, link: string): void {
  try {
    const path = archivePath(name, 'rooted')
    if (flag === '1') hardlinkTarget(path, link, 'rooted')
    if (flag === '2') symlinkTarget(path, link, 'rooted')
  } catch (err) {
    if (err instanceof TarError) throw new ImageError(400, err.message)
    throw err
  }
}
