import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesOf, drain, driverConformance, streamOf } from '../../test/storage-conformance.ts'
import { DigestMismatchError, sha256 } from '../oci/digest.ts'
import { StorageError, type PartialRead, type StorageDriver } from './driver.ts'
import { createFsDriver } from './fs.ts'
import { ownerPrefix } from './fs-temps.ts'
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

  /** Names of the files (not directories) anywhere under `.tmp/`. */
  const temps = async () =>
    (await readdir(join(root, '.tmp'), { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name)

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

  test("a killed process's temp files go as soon as the store is opened again", async () => {
    const tmp = join(root, '.tmp')
    const sleeper = Bun.spawn(['sleep', '60'])
    const dead = Bun.spawn(['true'])
    await dead.exited
    const plant = async (name: string) => {
      await mkdir(join(tmp, name))
      await writeFile(join(tmp, name, 'partial'), 'half a blob')
    }
    await plant(`${await ownerPrefix(dead.pid)}dead1234`)
    await plant(`${await ownerPrefix(sleeper.pid)}live1234`)
    // Our own pid in a directory that is not ours: a previous process that had it.
    await plant(`${await ownerPrefix(process.pid)}reused12`)
    await plant('otherhost~1~42~remote12') // another host's: only its heartbeat can tell
    const seen = async () => (await readdir(tmp)).map((n) => n.slice(-8)).sort()
    await createFsDriver(root)
    expect(await seen()).toEqual(['live1234', 'remote12'])
    sleeper.kill('SIGKILL')
    await sleeper.exited
    await createFsDriver(root)
    expect(await seen()).toEqual(['remote12'])
    const old = new Date(Date.now() - 3600_000)
    await utimes(join(tmp, 'otherhost~1~42~remote12'), old, old)
    await createFsDriver(root)
    expect(await seen()).toEqual([])
  })

  test('live instances keep each other\'s temp files; the verifier\'s view lists leftovers only', async () => {
    const other = await createFsDriver(root)
    const body = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(bytesOf(1000)) })
    const stop = new AbortController()
    const put = other.put('slow', body, { signal: stop.signal }) // a fill in progress
    await Bun.sleep(50)
    await createFsDriver(root) // a second instance starting beside the first
    expect(await temps()).toHaveLength(1)
    const observer = await createFsDriver(root, { tidy: false })
    const strays = async () => {
      const out = []
      for await (const s of observer.scratch!.strays()) out.push(s)
      return out
    }
    expect(await strays()).toEqual([])
    const dead = Bun.spawn(['true'])
    await dead.exited
    const leftover = join(root, '.tmp', `${await ownerPrefix(dead.pid)}deadbeef`)
    await mkdir(leftover)
    await writeFile(join(leftover, 'x'), 'twelve bytes')
    expect(await strays()).toMatchObject([{ name: leftover.split('/').at(-1), size: 12 }])
    await observer.scratch!.remove((await strays())[0]!.name)
    expect(await strays()).toEqual([])
    stop.abort()
    await expect(put).rejects.toMatchObject({ name: 'AbortError' })
  })

  test('a temp directory removed under a live instance is made again', async () => {
    await d.put('one', new Uint8Array(3))
    await rm(join(root, '.tmp'), { recursive: true })
    await d.put('two', new Uint8Array(3))
    expect((await d.stat('two'))?.size).toBe(3)
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

  // Above the size read whole at get(): layers, not manifests or records.
  const LARGE = 300 * 1024

  test('opens a large file only when the body is read', async () => {
    await d.put('lazy', bytesOf(LARGE))
    const unread = await d.get('lazy')
    // Had get() kept the file open, the unlinked inode would still read fine.
    await d.delete('lazy')
    await expect(drain(unread!.body)).rejects.toBeInstanceOf(StorageError)
  })

  test('a large key replaced between get and read errors instead of mixing versions', async () => {
    await d.put('swap', bytesOf(LARGE, 1))
    const stale = await d.get('swap')
    await d.put('swap', bytesOf(LARGE, 2))
    await expect(drain(stale!.body)).rejects.toThrow(/replaced while being read/)
  })

  test('a small key is read whole by get: a delete or rewrite after it changes nothing', async () => {
    await d.put('record', bytesOf(1000, 1))
    const before = await d.get('record')
    await d.delete('record')
    expect(await drain(before!.body)).toEqual(bytesOf(1000, 1))
    await d.put('record', bytesOf(1000, 2))
    const old = await d.get('record', { offset: 10, length: 20 })
    await d.put('record', bytesOf(2000, 3))
    expect(await drain(old!.body)).toEqual(bytesOf(1000, 2).subarray(10, 30))
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
