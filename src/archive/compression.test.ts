import { afterAll, describe, expect, test } from 'bun:test'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chunked, collect, fileBytes, run, tempDir } from '../../test/support/archive.ts'
import { decompressed, detectCompression, peek, UnsupportedCompressionError } from './compression.ts'

const work = tempDir()
afterAll(() => rmSync(work, { recursive: true, force: true }))
const payload = new TextEncoder().encode('some tar bytes, or anything really\n'.repeat(1000))
writeFileSync(join(work, 'p'), payload)

const compress = (tool: string, ext: string) => {
  run([tool, '-k', '-f', join(work, 'p')])
  return fileBytes(join(work, `p.${ext}`))
}

describe('compression', () => {
  test('detects formats from their magic bytes as real tools write them', () => {
    expect(detectCompression(compress('gzip', 'gz'))).toBe('gzip')
    expect(detectCompression(compress('bzip2', 'bz2'))).toBe('bzip2')
    expect(detectCompression(compress('xz', 'xz'))).toBe('xz')
    expect(detectCompression(compress('zstd', 'zst'))).toBe('zstd')
    expect(detectCompression(payload)).toBeNull()
    expect(detectCompression(new Uint8Array([0x1f]))).toBeNull()
  })

  test('peek returns the head and leaves the stream whole, across tiny chunks', async () => {
    const { head, stream } = await peek(chunked(payload, 2), 6)
    expect(new TextDecoder().decode(head)).toBe('some t')
    expect(await collect(stream)).toEqual(payload)
    const short = await peek(chunked(new Uint8Array([1, 2])), 6)
    expect(short.head).toEqual(new Uint8Array([1, 2]))
    expect(await collect(short.stream)).toEqual(new Uint8Array([1, 2]))
  })

  test('decompressed() undoes gzip and passes plain streams through', async () => {
    expect(await collect(await decompressed(chunked(compress('gzip', 'gz'), 100)))).toEqual(payload)
    expect(await collect(await decompressed(chunked(payload, 100)))).toEqual(payload)
    expect(await collect(await decompressed(chunked(new Uint8Array(0))))).toEqual(new Uint8Array(0))
  })

  test('decompressed() names formats it cannot undo', async () => {
    const err = await decompressed(chunked(compress('zstd', 'zst'))).catch((e) => e)
    expect(err).toBeInstanceOf(UnsupportedCompressionError)
    expect(err.message).toBe('unsupported compression format zstd')
  })
})
