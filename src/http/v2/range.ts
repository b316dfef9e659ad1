/**
 * The `Range` header of a blob GET, resolved against the blob's size, as Go's ServeContent
 * (distribution's blob server) reads it: a single byte range is honoured (206); one that
 * cannot be satisfied, or a byte range that is malformed (`bytes=5-1`, `bytes=a-b`), is
 * refused (416). Other units must be ignored and several ranges may be (RFC 9110 §14.2):
 * the whole blob follows, rather than a multipart answer no registry client asks for.
 */
import type { ByteRange } from '../../storage/driver.ts'

/** A range to serve, `unsatisfiable`, or undefined for the whole blob. */
export type RangeResult = ByteRange | 'unsatisfiable' | undefined

const SPEC = /^\s*(\d*)\s*-\s*(\d*)\s*$/

/** Resolves `header` against `size`. */
export function parseRange(header: string | undefined | null, size: number): RangeResult {
  const m = /^\s*bytes\s*=(.*)$/i.exec(header ?? '')
  if (!m) return undefined
  const specs = m[1]!.split(',').filter((s) => s.trim() !== '')
  const parsed = specs.map((s) => parseSpec(s, size))
  if (parsed.length === 0 || parsed.includes('unsatisfiable')) return 'unsatisfiable'
  const satisfiable = parsed.filter((r): r is ByteRange => r !== null)
  if (satisfiable.length === 0) return 'unsatisfiable'
  return parsed.length === 1 ? satisfiable[0] : undefined
}

// One `first-last` spec: a range, null when valid but beyond the end, or `unsatisfiable`
// when malformed.
function parseSpec(spec: string, size: number): ByteRange | null | 'unsatisfiable' {
  const m = SPEC.exec(spec)
  if (!m) return 'unsatisfiable'
  const [, first, last] = m as unknown as [string, string, string]
  if (first === '' && last === '') return 'unsatisfiable'
  const a = first === '' ? undefined : Number(first)
  const b = last === '' ? undefined : Number(last)
  const invalid = (n: number | undefined) => n !== undefined && !Number.isSafeInteger(n)
  if (invalid(a) || invalid(b)) return 'unsatisfiable'
  if (a === undefined) {
    // bytes=-N: the last N bytes.
    if (b === 0 || size === 0) return null
    const length = Math.min(b!, size)
    return { offset: size - length, length }
  }
  if (b !== undefined && b < a) return 'unsatisfiable'
  if (a >= size) return null
  const end = b === undefined ? size - 1 : Math.min(b, size - 1)
  return { offset: a, length: end - a + 1 }
}

/** `bytes 0-99/1000` for a served range. */
export const contentRange = (r: ByteRange, size: number): string =>
  `bytes ${r.offset}-${r.offset + r.length - 1}/${size}`
