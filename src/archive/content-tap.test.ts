import { describe, expect, test } from 'bun:test'
import { chunked, collect } from '../../test/support/archive.ts'
import { sha256 } from '../oci/digest.ts'
import { contentTap } from './content-tap.ts'

const plain = new Uint8Array(200_000).map((_, i) => (i * 31) % 256)
const gzip = async (b: Uint8Array) =>
  collect(chunked(b).pipeThrough(new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>))

async function tapped(bytes: Uint8Array, chunk: number) {
  const tap = contentTap()
  const out = await collect(chunked(bytes, chunk).pipeThrough(tap.stream))
  return { out, ...(await tap.result()) }
}

describe('contentTap', () => {
  test('passes bytes through and learns the digest of gzip content, whatever the chunking', async () => {
    const gz = await gzip(plain)
    for (const chunk of [1, 5, 4096, gz.byteLength]) {
      const r = await tapped(gz, chunk)
      expect(r.out).toEqual(gz)
      expect(r.compression).toBe('gzip')
      expect(r.uncompressedDigest).toBe(sha256(plain))
    }
  })

  test('plain bytes: no compression, nothing extra computed', async () => {
    const r = await tapped(plain, 1000)
    expect(r.out).toEqual(plain)
    expect(r).toMatchObject({ compression: null, uncompressedDigest: null })
    expect(await tapped(new Uint8Array([1, 2]), 1)).toMatchObject({ compression: null })
  })

  test('bytes that only look like gzip still flow; the digest is unknown', async () => {
    const fake = new Uint8Array(10_000).fill(9)
    fake.set([0x1f, 0x8b, 0x08])
    const r = await tapped(fake, 333)
    expect(r.out).toEqual(fake)
    expect(r).toMatchObject({ compression: 'gzip', uncompressedDigest: null })
  })
})
