import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesOf, drain, driverConformance, streamOf } from '../../test/storage-conformance.ts'
import { DigestMismatchError, sha256 } from '../oci/digest.ts'
import { StorageError, type PartialRead, type StorageDriver } from './driver.ts'
import { createFsDriver } from './fs.ts'
import { InvalidKeyError } from './keys.ts'

const fresh = () => mkdtemp(join(tmpdir(), 'edgepull-fs-'))

driverConformance('fs', async () => {
  const root = await fresh()
  return { driver: await createFsDriver(root), cleanup: () => rm(root, { recursive: true }) }
})

describe('fs driver', () => {
  let parent: string
  let root: string
  let d: StorageDriver
  beforeEach(async () => {
    parent = await fresh()
    root = join(parent, 'store')
    d = await createFsDriver(root)
  })
  afterEach(() => rm(parent, { recursive: true }))

  const temps = () => readdir(join(root, '.tmp'))

  test('keeps each object as a plain file at <root>/<key>', async () => {
    await d.put('blobs/sha256/ab/abc', new TextEncoder().encode('hi'))
    expect(await readFile(join(root, 'blobs/sha256/ab/abc'), 'utf8')).toBe('hi')
    expect(await temps()).toEqual([])
  })

  test('removes stale temp files at start-up, keeps young ones', async () => {
    const tmp = join(root, '.tmp')
    await writeFile(join(tmp, 'crashed'), 'partial')
    await mkdir(join(tmp, 'crashed-dir'))
    const old = new Date(Date.now() - 3600_000)
    await utimes(join(tmp, 'crashed'), old, old)
    await utimes(join(tmp, 'crashed-dir'), old, old)
    await writeFile(join(tmp, 'in-flight'), 'another process writing')
    await createFsDriver(root)
    expect(await temps()).toEqual(['in-flight'])
    await createFsDriver(root, { staleTempMs: 0 })
    expect(await temps()).toEqual([])
  })

  test('failed puts leave no temp files behind', async () => {
    const data = bytesOf(2 << 20)
    await expect(d.put('x', data, { sha256: sha256(bytesOf(1)) })).rejects.toBeInstanceOf(
      DigestMismatchError
    )
    await expect(d.put('x', data, { size: 5 })).rejects.toBeInstanceOf(DigestMismatchError)
    const failing = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(data)
        c.error(new Error('reset'))
      },
    })
    await expect(d.put('x', failing)).rejects.toThrow('reset')
    const ac = new AbortController()
    const stalled = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(data) })
    const put = d.put('x', stalled, { signal: ac.signal })
    setTimeout(() => ac.abort(), 20)
    await expect(put).rejects.toMatchObject({ name: 'AbortError' })
    expect(await temps()).toEqual([])
  })

  test('keys cannot escape the root', async () => {
    for (const key of ['../escape', 'a/../../escape', '..', '.tmp/x', '/etc/passwd', 'a\\..\\b']) {
      await expect(d.put(key, new Uint8Array(1))).rejects.toBeInstanceOf(InvalidKeyError)
      await expect(d.get(key)).rejects.toBeInstanceOf(InvalidKeyError)
      await expect(d.delete(key)).rejects.toBeInstanceOf(InvalidKeyError)
    }
    expect((await readdir(parent)).sort()).toEqual(['store'])
    expect(await readdir(root)).toEqual(['.tmp'])
  })

  test('file-system failures surface as StorageError', async () => {
    await d.put('file', new Uint8Array(1))
    const put = d.put('file/child', new Uint8Array(1))
    await expect(put).rejects.toBeInstanceOf(StorageError)
    await expect(put).rejects.toThrow(/^fs: mkdir file\/child/)
    expect(await temps()).toEqual([])
  })

  test('opens the file only when the body is read', async () => {
    await d.put('lazy', bytesOf(100))
    const unread = await d.get('lazy')
    // Had get() opened the file, the unlinked inode would still read fine.
    await d.delete('lazy')
    await expect(drain(unread!.body)).rejects.toBeInstanceOf(StorageError)
  })

  test('a key replaced between get and read errors instead of mixing versions', async () => {
    await d.put('swap', bytesOf(1000, 1))
    const stale = await d.get('swap')
    await d.put('swap', bytesOf(1000, 2))
    await expect(drain(stale!.body)).rejects.toThrow(/replaced while being read/)
  })

  test('reads in 1 MiB chunks, or as many as readChunk says', async () => {
    await d.put('chunks', bytesOf((3 << 20) + 5))
    const sizes = async (driver: StorageDriver) => {
      const out: number[] = []
      for await (const c of (await driver.get('chunks'))!.body) out.push(c.byteLength)
      return out
    }
    expect(await sizes(d)).toEqual([1 << 20, 1 << 20, 1 << 20, 5])
    const twoMiB = await createFsDriver(root, { readChunk: 2 << 20 })
    expect(await sizes(twoMiB)).toEqual([2 << 20, (1 << 20) + 5])
  })

  test('reads of a put in progress end with the put, and its temp file goes with them', async () => {
    const data = bytesOf((2 << 20) + 7)
    let read: PartialRead | undefined
    let seen = 0
    await d.put('partial', streamOf([data]).stream, {
      onWritten: (n, r) => {
        seen = n
        read = r
      },
    })
    expect(seen).toBe(data.byteLength)
    await expect(read!(0, 10)).rejects.toBeInstanceOf(StorageError)
    expect(await temps()).toEqual([])
  })

  test('a put is read back while written, and says it is verified before it commits', async () => {
    const data = bytesOf((3 << 20) + 11)
    const parts: Promise<Uint8Array>[] = []
    let written = 0
    let verifiedAt = -1
    const put = d.put('tail', streamOf([data]).stream, {
      sha256: sha256(data),
      size: data.byteLength,
      onWritten: (n, read) => {
        parts.push(read(written, n - written))
        written = n
      },
      onVerified: () => void (verifiedAt = written),
    })
    await put
    expect(verifiedAt).toBe(data.byteLength)
    expect(Buffer.concat(await Promise.all(parts))).toEqual(Buffer.from(data))

    let called = false
    const bad = d.put('tail2', streamOf([data]).stream, {
      sha256: sha256(bytesOf(10)),
      onVerified: () => void (called = true),
    })
    await expect(bad).rejects.toBeInstanceOf(DigestMismatchError)
    expect(called).toBe(false)
  })
})
