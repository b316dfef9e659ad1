import { describe, expect, test } from 'bun:test'
import { BLOCK, encodeHeader, encodePaxRecords, type TarHeader } from './tar-header.ts'
import { decodeHeader, parsePaxRecords } from './tar-parse.ts'

const header = (over: Partial<TarHeader>): TarHeader => ({
  name: 'blobs/sha256/abc',
  type: 'file',
  size: 5,
  mode: 0o644,
  mtime: 1_700_000_000,
  linkname: '',
  ...over,
})

describe('tar headers', () => {
  test('a ustar header decodes to what was encoded', () => {
    const block = encodeHeader(header({}))
    expect(block.byteLength).toBe(BLOCK)
    expect(decodeHeader(block)).toEqual({
      name: 'blobs/sha256/abc',
      flag: '0',
      size: 5,
      mode: 0o644,
      mtime: 1_700_000_000,
      linkname: '',
    })
  })

  test('sizes beyond 8 GiB go into a PAX record', () => {
    const bytes = encodeHeader(header({ size: 2 ** 34 }))
    const pax = decodeHeader(bytes.subarray(0, BLOCK))
    expect(pax.flag).toBe('x')
    expect(pax.name).toBe('blobs/sha256/PaxHeaders.0/abc')
    const records = parsePaxRecords(bytes.subarray(BLOCK, BLOCK + pax.size))
    expect(records.get('size')).toBe(String(2 ** 34))
    expect(decodeHeader(bytes.subarray(bytes.byteLength - BLOCK)).size).toBe(0)
  })

  test('PAX record lengths count themselves, across a digit boundary', () => {
    for (const n of [1, 90, 91, 92, 93, 994, 995, 996]) {
      const value = 'v'.repeat(n)
      const bytes = encodePaxRecords([['path', value]])
      const text = new TextDecoder().decode(bytes)
      expect(Number(text.split(' ')[0])).toBe(bytes.byteLength)
      expect(parsePaxRecords(bytes).get('path')).toBe(value)
    }
  })

  test('malformed PAX records are refused', () => {
    const bad = new TextEncoder().encode('99 path=x\n')
    expect(() => parsePaxRecords(bad)).toThrow('archive/tar: invalid PAX record')
  })
})
