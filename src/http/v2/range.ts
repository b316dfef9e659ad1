/**
 * The `Range` header of a blob GET, resolved against the blob's size: a single byte range is
 * honoured (206), an unsatisfiable one is refused (416), and anything else (several ranges,
 * other units, malformed) is ignored, which RFC 9110 §14.2 allows: the whole blob follows.
 */
import type { ByteRange } from '../../storage/driver.ts'

/** A range to serve, `unsatisfiable`, or undefined for the whole blob. */
export type RangeResult = ByteRange | 'unsatisfiable' | undefined

const SINGLE = /^bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i

/** Resolves `header` against `size`. */
export function parseRange(header: string | undefined | null, size: number): RangeResult {
  const m = SINGLE.exec(header?.trim() ?? '')
  if (!m) return undefined
  const [, first, last] = m as unknown as [string, string, string]
  if (first === '' && last === '') return undefined
  const a = first === '' ? undefined : Number(first)
  const b = last === '' ? undefined : Number(last)
  const invalid = (n: number | undefined) => n !== undefined && !Number.isSafeInteger(n)
  if (invalid(a) || invalid(b)) return undefined
  if (a === undefined) {
    // bytes=-N: the last N bytes.
    if (b === 0 || size === 0) return 'unsatisfiable'
    const length = Math.min(b!, size)
    return { offset: size - length, length }
  }
  if (b !== undefined && b < a) return undefined
  if (a >= size) return 'unsatisfiable'
  const end = b === undefined ? size - 1 : Math.min(b, size - 1)
  return { offset: a, length: end - a + 1 }
}

/** `bytes 0-99/1000` for a served range. */
export const contentRange = (r: ByteRange, size: number): string =>
  `bytes ${r.offset}-${r.offset + r.length - 1}/${size}`
