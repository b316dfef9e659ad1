/**
 * Tar header blocks, bytes only, no I/O. Written the way Go's archive/tar writes them (what
 * `docker save` produces): ustar fields zero-padded octal and NUL-terminated, a PAX extended
 * header only for what ustar cannot hold. Read leniently like Go: ustar, PAX, GNU, V7.
 */

/** Tar's unit: headers and padded bodies come in 512-byte blocks. */
export const BLOCK = 512

/** What an entry is, in the terms the readers of this package care about. */
export type TarType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other'

/** One entry's metadata. */
export interface TarHeader {
  name: string
  type: TarType
  /** Body length; 0 for every type but `file`. */
  size: number
  mode: number
  /** Seconds since the epoch. */
  mtime: number
  /** Target of a symlink or hardlink, `''` otherwise. */
  linkname: string
}

/** A malformed or refused archive. */
export class TarError extends Error {
  override name = 'TarError'
}

const utf8 = new TextEncoder()
const MAX_OCTAL_11 = 0o77777777777 // what an 11-digit size or mtime field holds
const TYPE_FLAG: Record<Exclude<TarType, 'other'>, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  directory: '5',
}

/** Rounds a body length up to whole blocks. */
export const padded = (size: number): number => Math.ceil(size / BLOCK) * BLOCK

/** The header block(s) for `h`: a PAX header first when a field does not fit ustar. */
export function encodeHeader(h: TarHeader): Uint8Array {
  if (h.type === 'other') throw new TarError(`cannot write entry type of ${h.name}`)
  const pax: [string, string][] = []
  const split = splitUstarName(h.name)
  if (!split) pax.push(['path', h.name])
  if (!fitsUstar(h.linkname, 100)) pax.push(['linkpath', h.linkname])
  if (h.size > MAX_OCTAL_11) pax.push(['size', String(h.size)])
  if (h.mtime < 0 || h.mtime > MAX_OCTAL_11) pax.push(['mtime', String(h.mtime)])

  const main = ustarBlock({
    name: split?.name ?? asciiPrefix(h.name, 100),
    prefix: split?.prefix ?? '',
    flag: TYPE_FLAG[h.type],
    size: h.size > MAX_OCTAL_11 ? 0 : h.size,
    mode: h.mode,
    mtime: h.mtime < 0 || h.mtime > MAX_OCTAL_11 ? 0 : h.mtime,
    linkname: fitsUstar(h.linkname, 100) ? h.linkname : asciiPrefix(h.linkname, 100),
  })
  if (!pax.length) return main
  const records = encodePaxRecords(pax)
  const slash = h.name.replace(/\/$/, '').lastIndexOf('/')
  const paxName = `${h.name.slice(0, slash + 1)}PaxHeaders.0/${h.name.slice(slash + 1)}`
  const paxHeader = ustarBlock({
    name: asciiPrefix(paxName, 100),
    prefix: '',
    flag: 'x',
    size: records.byteLength,
    mode: h.mode,
    mtime: Math.min(Math.max(h.mtime, 0), MAX_OCTAL_11),
    linkname: '',
  })
  const out = new Uint8Array(BLOCK + padded(records.byteLength) + BLOCK)
  out.set(paxHeader, 0)
  out.set(records, BLOCK)
  out.set(main, BLOCK + padded(records.byteLength))
  return out
}

interface UstarFields {
  name: string
  prefix: string
  flag: string
  size: number
  mode: number
  mtime: number
  linkname: string
}

function ustarBlock(f: UstarFields): Uint8Array {
  const b = new Uint8Array(BLOCK)
  putString(b, 0, 100, f.name)
  putOctal(b, 100, 8, f.mode)
  putOctal(b, 108, 8, 0) // uid
  putOctal(b, 116, 8, 0) // gid
  putOctal(b, 124, 12, f.size)
  putOctal(b, 136, 12, f.mtime)
  b.fill(0x20, 148, 156) // checksum placeholder: spaces, by definition
  b[156] = f.flag.charCodeAt(0)
  putString(b, 157, 100, f.linkname)
  putString(b, 257, 6, 'ustar\0')
  putString(b, 263, 2, '00')
  putOctal(b, 329, 8, 0) // devmajor
  putOctal(b, 337, 8, 0) // devminor
  putString(b, 345, 155, f.prefix)
  // Go's layout: six octal digits, NUL, space.
  putOctal(b, 148, 7, checksum(b))
  b[154] = 0
  b[155] = 0x20
  return b
}

const isAscii = (s: string): boolean => /^[\x00-\x7f]*$/.test(s)
const fitsUstar = (s: string, max: number): boolean => isAscii(s) && s.length <= max
const asciiPrefix = (s: string, max: number): string => s.replace(/[^\x00-\x7f]/g, '?').slice(0, max)

// Go's splitUSTARPath: ustar holds names up to 100 bytes, or prefix (≤155) "/" name (≤100).
function splitUstarName(name: string): { prefix: string; name: string } | null {
  if (!isAscii(name)) return null
  if (name.length <= 100) return { prefix: '', name }
  let length = name.length
  if (length > 156) length = 156
  else if (name[length - 1] === '/') length--
  const i = name.lastIndexOf('/', length - 1)
  const suffix = name.length - i - 1
  if (i <= 0 || suffix > 100 || suffix === 0 || i > 155) return null
  return { prefix: name.slice(0, i), name: name.slice(i + 1) }
}

function putString(b: Uint8Array, offset: number, length: number, s: string): void {
  b.set(utf8.encode(s).subarray(0, length), offset)
}

function putOctal(b: Uint8Array, offset: number, length: number, value: number): void {
  putString(b, offset, length, value.toString(8).padStart(length - 1, '0'))
}

function checksum(b: Uint8Array): number {
  let sum = 0
  for (const byte of b) sum += byte
  return sum
}

/** PAX records: `<len> <key>=<value>\n`, where len counts the whole record, itself included. */
export function encodePaxRecords(records: [string, string][]): Uint8Array {
  let text = ''
  for (const [key, value] of records) {
    const rest = ` ${key}=${value}\n`
    const restBytes = utf8.encode(rest).byteLength
    let len = restBytes + 1
    while (String(len).length + restBytes !== len) len = String(len).length + restBytes
    text += len + rest
  }
  return utf8.encode(text)
}
