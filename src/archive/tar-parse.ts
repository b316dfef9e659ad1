/**
 * Decoding of tar header blocks and PAX records, as leniently as Go's archive/tar reads them:
 * ustar (with its name prefix), GNU (base-256 numbers, no prefix), PAX, pre-POSIX V7.
 */
import { BLOCK, TarError } from './tar-header.ts'

/** A header block as stored, before PAX records or GNU long names are applied. */
export interface RawHeader {
  name: string
  /** The type flag character; `'\0'` for V7 regular files. */
  flag: string
  size: number
  mode: number
  mtime: number
  linkname: string
}

const utf8 = new TextDecoder('utf-8')

/** True for the all-zero block that marks the end of an archive. */
export function isZeroBlock(b: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false
  return true
}

/** Decodes one 512-byte header block; throws TarError when its checksum is wrong. */
export function decodeHeader(b: Uint8Array): RawHeader {
  const stored = parseNumber(b, 148, 8)
  // Historic writers summed signed bytes; Go accepts either sum, and so do we.
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : b[i]
    unsigned += byte
    signed += byte > 127 ? byte - 256 : byte
  }
  if (stored !== unsigned && stored !== signed) throw new TarError('archive/tar: invalid tar header')

  const magic = cString(b, 257, 6)
  const version = cString(b, 263, 2)
  let name = cString(b, 0, 100)
  // Only POSIX ustar has the prefix field; GNU tar keeps access times there.
  if (magic === 'ustar' && version === '00') {
    const prefix = cString(b, 345, 155)
    if (prefix) name = `${prefix}/${name}`
  }
  return {
    name,
    flag: String.fromCharCode(b[156]),
    size: parseNumber(b, 124, 12),
    mode: parseNumber(b, 100, 8),
    mtime: parseNumber(b, 136, 12),
    linkname: cString(b, 157, 100),
  }
}

/** A NUL-terminated string field. */
export function cString(b: Uint8Array, offset: number, length: number): string {
  const field = b.subarray(offset, offset + length)
  const end = field.indexOf(0)
  return utf8.decode(end < 0 ? field : field.subarray(0, end))
}

// Octal text (NUL or space padded), or GNU base-256 when the high bit of the first byte is set.
function parseNumber(b: Uint8Array, offset: number, length: number): number {
  const field = b.subarray(offset, offset + length)
  if (field[0] & 0x80) {
    if (field[0] & 0x40) throw new TarError('archive/tar: negative number in header')
    let n = field[0] & 0x3f
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]
    if (!Number.isSafeInteger(n)) throw new TarError('archive/tar: number in header too large')
    return n
  }
  const text = String.fromCharCode(...field).replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '')
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) throw new TarError('archive/tar: invalid tar header')
  return parseInt(text, 8)
}

/** Parses PAX extended records (`<len> <key>=<value>\n`…); throws TarError when malformed. */
export function parsePaxRecords(bytes: Uint8Array): Map<string, string> {
  const out = new Map<string, string>()
  let at = 0
  while (at < bytes.length) {
    const space = bytes.indexOf(0x20, at)
    const len = space < 0 ? NaN : Number(String.fromCharCode(...bytes.subarray(at, space)))
    if (!Number.isSafeInteger(len) || len <= space - at + 1 || at + len > bytes.length) {
      throw new TarError('archive/tar: invalid PAX record')
    }
    const record = bytes.subarray(space + 1, at + len)
    if (record[record.length - 1] !== 0x0a) throw new TarError('archive/tar: invalid PAX record')
    const text = utf8.decode(record.subarray(0, -1))
    const eq = text.indexOf('=')
    if (eq <= 0) throw new TarError('archive/tar: invalid PAX record')
    out.set(text.slice(0, eq), text.slice(eq + 1))
    at += len
  }
  return out
}

// Types whose size field says nothing about a body (Go's isHeaderOnlyType).
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6'])

/** An entry's header with the PAX records and GNU long names before it folded in. */
export interface FoldedHeader {
  raw: RawHeader
  name: string
  linkname: string
  /** Bytes of body that follow (0 for links, directories and devices, whatever the header says). */
  size: number
  /** The PAX `mtime`, when one was given (seconds, possibly fractional). */
  paxMtime?: string
}

/**
 * The headers that describe the next entry rather than being one — PAX `x` records, GNU `L`
 * and `K` long names; `g` records are read and ignored — folded into that entry's header as
 * Go's archive/tar does. The streaming reader and the import check share it, so both judge
 * the same names.
 */
export class HeaderFolding {
  private pax = new Map<string, string>()
  private longName: string | undefined
  private longLink: string | undefined

  /** True for the headers whose body is metadata for the next entry. */
  static isMetadata(flag: string): boolean {
    return flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K'
  }

  /** Takes a metadata header's body. */
  metadata(flag: string, bytes: Uint8Array): void {
    if (flag === 'x') this.pax = parsePaxRecords(bytes)
    else if (flag === 'g') parsePaxRecords(bytes)
    else if (flag === 'L') this.longName = cString(bytes, 0, bytes.byteLength)
    else if (flag === 'K') this.longLink = cString(bytes, 0, bytes.byteLength)
  }

  /** The entry `raw` heads, with what came before it applied; then starts afresh. */
  entry(raw: RawHeader): FoldedHeader {
    const name = this.pax.get('path') || this.longName || raw.name
    const linkname = this.pax.get('linkpath') || this.longLink || raw.linkname
    const paxSize = this.pax.get('size')
    const paxMtime = this.pax.get('mtime')
    this.pax = new Map()
    this.longName = this.longLink = undefined
    let size = paxSize === undefined ? raw.size : Number(paxSize)
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new TarError(`archive/tar: invalid size for ${JSON.stringify(name)}`)
    }
    if (HEADER_ONLY.has(raw.flag)) size = 0
    return { raw, name, linkname, size, paxMtime }
  }
}
