import { describe, expect, test } from 'bun:test'
import { encodeHeader, padded, type TarType } from '../archive/tar-header.ts'
import { concatBytes } from '../oci/bytes.ts'
import { ImageError } from './errors.ts'
import { tarCheck } from './tar-check.ts'

type Entry = [name: string, type?: TarType, linkOrSize?: string | number]

// A tar as our writer lays it out (ustar, PAX beyond); the writer checks no names.
function tar(entries: Entry[], end = true): Uint8Array {
  const parts: Uint8Array[] = []
  for (const [name, type = 'file', x = 0] of entries) {
    const size = typeof x === 'number' && type === 'file' ? x : 0
    const linkname = typeof x === 'string' ? x : ''
    parts.push(encodeHeader({ name, type, size, mode: 0o644, mtime: 0, linkname }))
    parts.push(new Uint8Array(padded(size)))
  }
  if (end) parts.push(new Uint8Array(1024))
  return concatBytes(parts, parts.reduce((n, p) => n + p.byteLength, 0))
}

async function check(bytes: Uint8Array, maxEntryBytes?: number): Promise<ImageError | null> {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      // Odd chunks, so headers and metadata straddle them.
      for (let at = 0; at < bytes.byteLength; at += 333) c.enqueue(bytes.subarray(at, at + 333))
      c.close()
    },
  })
  try {
    await body.pipeThrough(tarCheck({ maxEntryBytes })).pipeTo(new WritableStream())
    return null
  } catch (err) {
    if (err instanceof ImageError) return err
    throw err
  }
}

describe('tarCheck', () => {
  test('a root file system passes: absolute names and links are read from the root', async () => {
    const rootfs = tar([
      ['./', 'directory'],
      ['bin/busybox', 'file', 1000],
      ['bin/sh', 'symlink', '/bin/busybox'],
      ['/etc/motd', 'file', 10],
      ['usr/bin/ls', 'symlink', '../../bin/busybox'],
      ['bin/ash', 'hardlink', 'bin/busybox'],
      [`deep/${'d/'.repeat(100)}name-longer-than-ustar-holds`, 'file', 1],
    ])
    expect(await check(rootfs)).toBeNull()
  })

  test('names and links that climb out of the root are refused, as moby does', async () => {
    const cases: [Entry, string][] = [
      [['../evil', 'file', 1], 'invalid archive: "../evil" is outside of the archive'],
      [['a/../../evil', 'file', 1], 'invalid archive: "a/../../evil" is outside of the archive'],
      [['a/l', 'symlink', '../../etc/passwd'], 'invalid archive: invalid symlink "a/l" -> "../../etc/passwd"'],
      [['h', 'hardlink', '../x'], 'invalid archive: invalid hardlink "h" -> "../x"'],
      [[`${'x'.repeat(300)}`, 'file', 1], 'file name too long'],
    ]
    for (const [entry, message] of cases) {
      const err = await check(tar([['ok', 'file', 5], entry]))
      expect(err?.status).toBe(400)
      expect(err?.message).toContain(message)
    }
  })

  test('an entry claiming more than the body may hold is refused at its header (413)', async () => {
    const header = encodeHeader({ name: 'huge', type: 'file', size: 2 ** 40, mode: 0o644, mtime: 0, linkname: '' })
    const err = await check(header, 1 << 20)
    expect(err?.status).toBe(413)
    expect(err?.message).toBe('invalid tar: "huge" claims 1099511627776 bytes, more than the body may hold (limits.bodyBytes)')
  })

  test('truncation, garbage and oversized extended headers', async () => {
    const whole = tar([['a', 'file', 700]], false)
    expect((await check(whole.subarray(0, 900)))?.message).toBe('invalid tar: unexpected EOF: the tar archive is truncated')
    expect((await check(new TextEncoder().encode('x'.repeat(2000))))?.message).toBe('invalid tar: the body is not a tar archive')
    const pax = encodeHeader({ name: 'p', type: 'file', size: 0, mode: 0, mtime: 0, linkname: '' })
    pax[156] = 'x'.charCodeAt(0)
    // size field: 2 MiB, checksum recomputed
    pax.set(new TextEncoder().encode('00010000000\0'), 124)
    pax.fill(0x20, 148, 156)
    const sum = pax.reduce((n, b) => n + b, 0)
    pax.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148)
    expect((await check(pax))?.message).toBe('invalid tar: extended header of 2097152 bytes')
  })

  test('many tiny entries pass with flat memory (only headers are looked at)', async () => {
    const entries: Entry[] = Array.from({ length: 20_000 }, (_, i) => [`f/${i}`, 'file', 0] as Entry)
    expect(await check(tar(entries))).toBeNull()
  })
})
