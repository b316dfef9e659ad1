import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, rmSync, symlinkSync, linkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chunked, collect, fileBytes, listTar, run, tempDir } from '../../test/support/archive.ts'
import { decompressed } from './compression.ts'
import { TarError } from './tar-header.ts'
import { readTar } from './tar-reader.ts'

const work = tempDir()
afterAll(() => rmSync(work, { recursive: true, force: true }))

// A tree with a long name (> 100 bytes), a non-ASCII name, a symlink, a hardlink, an empty file.
const longDir = `${'d'.repeat(60)}/${'e'.repeat(60)}`
const longName = `${longDir}/${'f'.repeat(110)}.txt`
const src = join(work, 'src')
mkdirSync(join(src, longDir), { recursive: true })
writeFileSync(join(src, 'hello.txt'), 'hello world\n')
writeFileSync(join(src, 'empty'), '')
writeFileSync(join(src, 'büro.txt'), 'ümlaut')
writeFileSync(join(src, longName), 'long one')
symlinkSync('hello.txt', join(src, 'link'))
linkSync(join(src, 'hello.txt'), join(src, 'hard'))
const big = new Uint8Array(300_000).map((_, i) => (i * 7) % 251)
writeFileSync(join(src, 'big.bin'), big)
const members = ['hello.txt', 'empty', 'büro.txt', longName, 'link', 'hard', 'big.bin']

function gnuTar(format: string): Uint8Array {
  const out = join(work, `${format}.tar`)
  run(['tar', '--format', format, '-cf', out, '-C', src, ...members])
  return fileBytes(out)
}

async function expectTree(archive: Uint8Array, chunk?: number) {
  const entries = await listTar(chunked(archive, chunk))
  const byName = new Map(entries.map((e) => [e.name, e]))
  expect(entries.map((e) => e.name).sort()).toEqual([...members].sort())
  expect(byName.get('hello.txt')).toMatchObject({ type: 'file', body: 'hello world\n', mode: 0o644 })
  expect(byName.get('empty')).toMatchObject({ type: 'file', body: '' })
  expect(byName.get('büro.txt')?.body).toBe('ümlaut')
  expect(byName.get(longName)?.body).toBe('long one')
  expect(byName.get('link')).toMatchObject({ type: 'symlink', linkname: 'hello.txt', body: '' })
  expect(byName.get('hard')).toMatchObject({ type: 'hardlink', linkname: 'hello.txt', body: '' })
  expect(byName.get('big.bin')?.body).toBe(new TextDecoder().decode(big))
}

describe('readTar on archives written by real tools', () => {
  for (const format of ['gnu', 'pax']) {
    test(`GNU tar --format ${format}`, () => expectTree(gnuTar(format)))
  }

  test('GNU tar ustar with a name that needs the prefix field', async () => {
    const name = `${'p'.repeat(90)}/${'q'.repeat(90)}.txt`
    mkdirSync(join(work, 'ustar', 'p'.repeat(90)), { recursive: true })
    writeFileSync(join(work, 'ustar', name), 'split')
    const out = join(work, 'split.tar')
    run(['tar', '--format', 'ustar', '-cf', out, '-C', join(work, 'ustar'), name])
    const entries = await listTar(chunked(fileBytes(out)))
    expect(entries).toMatchObject([{ name, type: 'file', body: 'split' }])
  })

  test('python3 -m tarfile (PAX by default)', async () => {
    const out = join(work, 'py.tar')
    run(['python3', '-m', 'tarfile', '-c', out, ...members], src)
    await expectTree(fileBytes(out))
  })

  test('python3 tarfile in GNU format, read one byte at a time', async () => {
    const out = join(work, 'py-gnu.tar')
    const script = `import tarfile,sys
with tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT) as t:
    for m in sys.argv[2:]: t.add(m)`
    run(['python3', '-c', script, out, ...members], src)
    await expectTree(fileBytes(out), 1)
  })

  test('gzip-compressed tar, through decompressed()', async () => {
    const out = join(work, 'z.tar.gz')
    run(['tar', '-czf', out, '-C', src, ...members])
    await expectTree(await collect(await decompressed(chunked(fileBytes(out), 999))))
  })

  test('directories come out as directory entries', async () => {
    const out = join(work, 'dirs.tar')
    run(['tar', '-cf', out, '-C', src, 'dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd'])
    const entries = await listTar(chunked(fileBytes(out)))
    expect(entries[0]).toMatchObject({ name: `${'d'.repeat(60)}/`, type: 'directory' })
    expect(entries.at(-1)).toMatchObject({ name: longName, type: 'file' })
  })
})

describe('readTar streaming contract', () => {
  test('bodies left unread are skipped', async () => {
    const names = []
    for await (const e of readTar(chunked(gnuTar('pax'), 1000))) names.push(e.name)
    expect(names.sort()).toEqual([...members].sort())
  })

  test('a body read partly, then abandoned, does not derail the next header', async () => {
    const seen: string[] = []
    for await (const e of readTar(chunked(gnuTar('gnu'), 4096))) {
      const r = e.body.getReader()
      await r.read()
      await r.cancel()
      seen.push(e.name)
    }
    expect(seen.length).toBe(members.length)
  })

  test('a body cannot be read after moving on', async () => {
    const it = readTar(chunked(gnuTar('pax')))
    const first = (await it.next()).value!
    await it.next()
    await expect(collect(first.body)).rejects.toBeInstanceOf(TarError)
    await it.return()
  })

  test('a truncated archive fails with unexpected EOF', async () => {
    const whole = gnuTar('pax')
    const cut = whole.subarray(0, 512 * 3 + 100)
    await expect(listTar(chunked(cut))).rejects.toThrow('unexpected EOF')
  })

  test('an archive without its end blocks ends cleanly at an entry boundary', async () => {
    const out = join(work, 'one.tar')
    run(['tar', '--format', 'ustar', '-cf', out, '-C', src, 'hello.txt'])
    const noEnd = fileBytes(out).subarray(0, 1024)
    expect(await listTar(chunked(noEnd))).toMatchObject([{ name: 'hello.txt', body: 'hello world\n' }])
  })

  test('a corrupted header fails its checksum', async () => {
    const bytes = gnuTar('pax').slice()
    bytes[10] ^= 0xff
    await expect(listTar(chunked(bytes))).rejects.toThrow('archive/tar: invalid tar header')
  })

  test('random bytes are not an archive', async () => {
    const junk = new TextEncoder().encode('this is not a tar archive at all'.repeat(40))
    await expect(listTar(chunked(junk))).rejects.toBeInstanceOf(TarError)
  })
})
