import { afterAll, describe, expect, test } from 'bun:test'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chunked, collect, listTar, run, tempDir } from '../../test/support/archive.ts'
import { TarError } from './tar-header.ts'
import { tarStream, type TarWriteEntry } from './tar-writer.ts'

const work = tempDir()
afterAll(() => rmSync(work, { recursive: true, force: true }))

const text = (s: string) => new TextEncoder().encode(s)
const prefixed = `${'a'.repeat(120)}/${'b'.repeat(90)}` // ustar prefix + name
const paxOnly = `${'c'.repeat(200)}/${'d'.repeat(120)}` // basename > 100: PAX path record
const big = new Uint8Array(1_000_001).map((_, i) => (i * 13) % 256)

const entries = (): TarWriteEntry[] => [
  { name: 'blobs/', type: 'directory', mtime: 1_700_000_000 },
  { name: 'blobs/small', body: text('hello\n'), mtime: 1_700_000_000 },
  { name: 'blobs/streamed', size: big.byteLength, body: async () => chunked(big, 65_537) },
  { name: 'empty', size: 0, body: async () => chunked(new Uint8Array(0)) },
  { name: prefixed, body: text('prefix') },
  { name: paxOnly, body: text('pax') },
  { name: 'grüße.txt', body: text('utf-8 name') },
]

async function writeArchive(name: string, list = entries()): Promise<string> {
  const path = join(work, name)
  writeFileSync(path, await collect(tarStream(list)))
  return path
}

describe('tarStream output is read correctly by real tools', () => {
  test('GNU tar lists and extracts every entry byte for byte', async () => {
    const path = await writeArchive('w.tar')
    const listing = run(['tar', '-tf', path]).trim().split('\n')
    expect(listing).toEqual(['blobs/', 'blobs/small', 'blobs/streamed', 'empty', prefixed, paxOnly, 'grüße.txt'])
    const out = join(work, 'x')
    run(['mkdir', '-p', out])
    run(['tar', '-xf', path, '-C', out])
    expect(readFileSync(join(out, 'blobs/small'), 'utf8')).toBe('hello\n')
    expect(new Uint8Array(readFileSync(join(out, 'blobs/streamed')))).toEqual(big)
    expect(readFileSync(join(out, prefixed), 'utf8')).toBe('prefix')
    expect(readFileSync(join(out, paxOnly), 'utf8')).toBe('pax')
    expect(readFileSync(join(out, 'grüße.txt'), 'utf8')).toBe('utf-8 name')
    const verbose = run(['tar', '--utc', '-tvf', path]).split('\n')
    expect(verbose[0]).toStartWith('drwxr-xr-x 0/0')
    expect(verbose[0]).toContain('2023-11-14 22:13 blobs/')
    expect(verbose[1]).toStartWith('-rw-r--r-- 0/0')
  })

  test('python3 tarfile reads it without complaint', async () => {
    const path = await writeArchive('py.tar')
    const script = `import tarfile,sys,json
with tarfile.open(sys.argv[1]) as t:
    print(json.dumps([[m.name, m.size, m.type.decode()] for m in t.getmembers()]))`
    const members = JSON.parse(run(['python3', '-c', script, path]))
    expect(members).toEqual([
      ['blobs', 0, '5'],
      ['blobs/small', 6, '0'],
      ['blobs/streamed', big.byteLength, '0'],
      ['empty', 0, '0'],
      [prefixed, 6, '0'],
      [paxOnly, 3, '0'],
      ['grüße.txt', 10, '0'],
    ])
  })

  test('our reader round-trips it', async () => {
    const back = await listTar(chunked(await collect(tarStream(entries())), 777))
    expect(back.map((e) => e.name)).toEqual(entries().map((e) => e.name))
    expect(back[2].body).toBe(new TextDecoder().decode(big))
  })
})

describe('tarStream header bytes', () => {
  test('are laid out as Go writes them (what docker save emits)', async () => {
    const bytes = await collect(tarStream([{ name: 'oci-layout', body: text('{}'), mtime: 0 }]))
    const field = (at: number, len: number) => new TextDecoder().decode(bytes.subarray(at, at + len))
    expect(field(100, 8)).toBe('0000644\0')
    expect(field(108, 8)).toBe('0000000\0')
    expect(field(124, 12)).toBe('00000000002\0')
    expect(field(136, 12)).toBe('00000000000\0')
    expect(field(154, 2)).toBe('\0 ')
    expect(field(257, 8)).toBe('ustar\u000000')
    // header, one padded body block, two zero blocks, no record padding
    expect(bytes.byteLength).toBe(512 * 4)
  })
})

describe('tarStream streaming', () => {
  test('opens each body only when its entry is reached', async () => {
    const opened: string[] = []
    const lazy = (name: string): TarWriteEntry => ({
      name,
      size: 3,
      body: async () => {
        opened.push(name)
        return chunked(text('abc'))
      },
    })
    const reader = tarStream([lazy('one'), lazy('two')]).getReader()
    await reader.read() // header of one
    await reader.read() // body of one
    expect(opened).toEqual(['one'])
    await reader.cancel()
    expect(opened).toEqual(['one'])
  })

  test('a streamed body ending on a block boundary is followed by the next entry', async () => {
    const exact = new Uint8Array(1024).fill(1)
    const list = [
      { name: 'a', size: 1024, body: async () => chunked(exact, 512) },
      { name: 'b', size: 512, body: async () => chunked(exact.subarray(0, 512)) },
      { name: 'c', body: text('end') },
    ]
    const back = await listTar(tarStream(list))
    expect(back.map((e) => [e.name, e.bytes.byteLength])).toEqual([['a', 1024], ['b', 512], ['c', 3]])
  })

  test('a body shorter or longer than declared errors the stream', async () => {
    const short = [{ name: 'x', size: 10, body: async () => chunked(text('abc')) }]
    await expect(collect(tarStream(short))).rejects.toBeInstanceOf(TarError)
    const long = [{ name: 'x', size: 2, body: async () => chunked(text('abc')) }]
    await expect(collect(tarStream(long))).rejects.toThrow('x: expected 2 bytes, got more than 2')
  })

  test('a failing body errors the stream and is cancelled with the entries', async () => {
    let finished = false
    async function* gen(): AsyncGenerator<TarWriteEntry> {
      try {
        yield {
          name: 'x',
          size: 10,
          body: async () =>
            new ReadableStream({
              pull: (c) => c.error(new Error('store went away')),
            }),
        }
        yield { name: 'never', body: text('') }
      } finally {
        finished = true
      }
    }
    await expect(collect(tarStream(gen()))).rejects.toThrow('store went away')
    expect(finished).toBe(true)
  })
})
