import { afterAll, describe, expect, test } from 'bun:test'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chunked, collect, fileBytes, run, tempDir } from '../../test/support/archive.ts'
import {
  CompressedDataError,
  decompressed,
  detectCompression,
  InflateLimitError,
  peek,
  UnsupportedCompressionError,
} from './compression.ts'

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

describe('gzip bombs', () => {
  // 200 MiB of zeros, as gzip -9 writes them: about 200 KiB.
  const bomb = () => {
    run(['sh', '-c', `head -c ${200 << 20} /dev/zero | gzip -9 > ${join(work, 'zeros.gz')}`])
    return fileBytes(join(work, 'zeros.gz'))
  }

  test('unpacking stops at limits.bodyBytes', async () => {
    const out = await decompressed(chunked(compress('gzip', 'gz')), { maxBytes: 1000, ratio: 1e9 })
    const err = await collect(out).catch((e) => e)
    expect(err).toBeInstanceOf(InflateLimitError)
    expect(err.message).toBe('gzip data unpacks to more than 1000 bytes (limits.bodyBytes)')
  })

  test('past 64 MiB, unpacking stops at limits.gzipRatio times the compressed size', async () => {
    const out = await decompressed(chunked(bomb(), 65_536), { maxBytes: 2 ** 40, ratio: 100 })
    const reader = out.getReader()
    let seen = 0
    const err = await (async () => {
      for (;;) {
        const r = await reader.read()
        if (r.done) return null
        seen += r.value.byteLength
      }
    })().catch((e) => e)
    expect(err).toBeInstanceOf(InflateLimitError)
    expect(err.message).toBe('gzip data unpacks to more than 100 times its size (limits.gzipRatio)')
    expect(seen).toBeGreaterThanOrEqual(64 << 20)
    expect(seen).toBeLessThan(80 << 20)
  })

  test('within the limits everything unpacks; bad data is CompressedDataError', async () => {
    const gz = compress('gzip', 'gz')
    expect(await collect(await decompressed(chunked(gz), { maxBytes: payload.byteLength, ratio: 1 }))).toEqual(payload)
    const broken = gz.slice()
    broken.fill(0x55, 20, 60)
    const err = await collect(await decompressed(chunked(broken))).catch((e) => e)
    expect(err).toBeInstanceOf(CompressedDataError)
    expect(err.message).toStartWith('invalid gzip data: ')
  })

  test('an input error passes through unchanged', async () => {
    const gone = new Error('client went away')
    const gz = compress('gzip', 'gz')
    let sent = false
    const input = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent) return c.error(gone)
        c.enqueue(gz.subarray(0, 100))
        sent = true
      },
    })
    expect(await collect(await decompressed(input)).catch((e) => e)).toBe(gone)
  })
})
