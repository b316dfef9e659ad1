import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256, type Digest } from '../oci/digest.ts'
import type { StorageDriver } from '../storage/driver.ts'
import { createFsDriver } from '../storage/fs.ts'
import { blobKey } from '../storage/keys.ts'
import { createMemoryDriver } from '../storage/memory.ts'
import { Fills, type FillSource } from './fills.ts'

/** An upstream the test feeds by hand: `push` chunks, then `end` or `fail`. */
function manualSource(size?: number) {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let opens = 0
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) })
  let signal: AbortSignal | undefined
  const source: FillSource = {
    origin: 'http://up.example/library/x',
    async open(s) {
      opens++
      signal = s
      return { body, size }
    },
  }
  return {
    source,
    opens: () => opens,
    signal: () => signal,
    push: (b: Uint8Array) => controller.enqueue(b),
    end: () => controller.close(),
    fail: (e: Error) => controller.error(e),
  }
}

const bytesOf = (n: number, seed = 1) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms))

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(s).arrayBuffer())
}

/** A memory driver that hides its partialReads capability, as R2 would lack it. */
function withoutPartialReads(d: StorageDriver): StorageDriver {
  return {
    name: 'plain',
    stat: (k) => d.stat(k),
    get: (k, r) => d.get(k, r),
    put: (k, b, o) => d.put(k, b, { ...o, onWritten: undefined }),
    delete: (k) => d.delete(k),
    list: (p) => d.list(p),
  }
}

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const drivers: Array<[string, () => Promise<StorageDriver>]> = [
  ['memory', async () => createMemoryDriver()],
  [
    'fs',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'edgepull-fills-'))
      dirs.push(dir)
      return createFsDriver(dir)
    },
  ],
  ['no partial reads (window)', async () => withoutPartialReads(createMemoryDriver())],
]

for (const [name, make] of drivers) {
  describe(`fills over ${name}`, () => {
    test('readers tail a fill from any offset while it arrives; one upstream open', async () => {
      const driver = await make()
      const fills = new Fills(driver, { window: 3 << 20 })
      const data = bytesOf(5 << 20)
      const digest = sha256(data)
      const up = manualSource(data.byteLength)
      const first = await Promise.all([1, 2].map(() => fills.open(digest, up.source)))
      expect(first[0]).toBe(first[1])
      const whole = readAll(first[0].read())
      const tail = readAll(first[0].read(4 << 20, 1000))
      const mib = 1 << 20
      up.push(data.subarray(0, 2 * mib))
      up.push(data.subarray(2 * mib, 4 * mib))
      // A reader of the first MiB is answered before the fill completes.
      const head = await readAll(first[0].read(0, 1000))
      expect(head).toEqual(data.subarray(0, 1000))
      expect(await driver.stat(blobKey(digest))).toBeNull()
      const late = fills.join(digest, up.source)
      expect(late).toBe(first[0])
      const lateAll = readAll(late.read())
      up.push(data.subarray(4 * mib))
      up.end()
      expect(await whole).toEqual(data)
      expect(await tail).toEqual(data.subarray(4 << 20, (4 << 20) + 1000))
      expect(await lateAll).toEqual(data)
      await first[0].done
      expect(up.opens()).toBe(1)
      expect((await driver.stat(blobKey(digest)))?.size).toBe(data.byteLength)
      expect(fills.size).toBe(0)
    })

    test('the last byte waits for verification: a bad fill errors every reader, stores nothing', async () => {
      const driver = await make()
      const fills = new Fills(driver)
      const good = bytesOf(300_000)
      const digest = sha256(good)
      const bad = good.slice()
      bad[10] ^= 1
      const up = manualSource(bad.byteLength)
      const fill = await fills.open(digest, up.source)
      const reader = fill.read().getReader()
      up.push(bad)
      let got = 0
      const consumed = (async () => {
        for (;;) {
          const r = await reader.read()
          if (r.done) return 'ended'
          got += r.value.byteLength
        }
      })()
      up.end()
      await expect(consumed).rejects.toThrow(/digest mismatch/)
      expect(got).toBeLessThan(bad.byteLength)
      expect(await driver.stat(blobKey(digest))).toBeNull()
      expect(fills.size).toBe(0)
    })

    test('the last byte is served once verified, before the commit finishes', async () => {
      const inner = await make()
      let commit!: () => void
      const committing = new Promise<void>((r) => (commit = r))
      // A put that verifies at once but takes its time committing (as fsync and rename do).
      const slow: StorageDriver = {
        ...inner,
        put: async (k, b, o) => {
          const info = await inner.put(k, b, o)
          await committing
          return info
        },
      }
      const fills = new Fills(slow)
      const data = bytesOf(3 << 20)
      const digest = sha256(data)
      const up = manualSource(data.byteLength)
      const fill = await fills.open(digest, up.source)
      const all = readAll(fill.read())
      up.push(data)
      up.end()
      const early = await Promise.race([all, tick(2000).then(() => 'waited for the commit')])
      // Served from the temp file or the window, as soon as the store matched the digest.
      expect(early).toEqual(data)
      expect(fill.state).toBe('streaming')
      commit()
      expect(await all).toEqual(data)
      await fill.done
    })

    test('a fill whose upstream breaks fails its readers; the next one starts afresh', async () => {
      const driver = await make()
      const fills = new Fills(driver)
      const data = bytesOf(1000)
      const digest = sha256(data)
      const up = manualSource(1000)
      const fill = await fills.open(digest, up.source)
      const all = readAll(fill.read())
      up.push(data.subarray(0, 10))
      up.fail(new Error('connection reset'))
      await expect(all).rejects.toThrow('connection reset')
      await tick()
      const again = manualSource(1000)
      const fill2 = await fills.open(digest, again.source)
      expect(fill2).not.toBe(fill)
      again.push(data)
      again.end()
      expect(await readAll(fill2.read())).toEqual(data)
    })
  })
}

describe('fills: holders and detachment', () => {
  test('pulls share a fill; it stops only when the last of them leaves', async () => {
    const fills = new Fills(createMemoryDriver())
    const data = bytesOf(100)
    const digest = sha256(data) as Digest
    const up = manualSource(100)
    const c1 = new AbortController()
    const c2 = new AbortController()
    const a = fills.fetch(digest, up.source, { signal: c1.signal })
    const b = fills.fetch(digest, up.source, { signal: c2.signal })
    await tick()
    c1.abort()
    await expect(a).rejects.toThrow()
    expect(up.signal()?.aborted).toBe(false)
    c2.abort()
    await expect(b).rejects.toThrow()
    expect(up.signal()?.aborted).toBe(true)
  })

  test('a mirror reader detaches the fill: it completes after every pull has left', async () => {
    const driver = createMemoryDriver()
    const fills = new Fills(driver)
    const data = bytesOf(100)
    const digest = sha256(data)
    const up = manualSource(100)
    const leaver = new AbortController()
    const pull = fills.fetch(digest, up.source, { signal: leaver.signal })
    await tick()
    const fill = await fills.open(digest, up.source)
    leaver.abort()
    await expect(pull).rejects.toThrow()
    up.push(data)
    up.end()
    await fill.done
    expect((await driver.stat(blobKey(digest)))?.size).toBe(100)
  })

  test('progress reaches every pull, a late one hears the latest at once', async () => {
    const fills = new Fills(createMemoryDriver())
    const data = bytesOf(100)
    const digest = sha256(data)
    const up = manualSource(100)
    const heard: number[][] = [[], []]
    const a = fills.fetch(digest, up.source, { onProgress: (n) => heard[0]!.push(n) })
    await tick()
    up.push(data.subarray(0, 40))
    await tick()
    const b = fills.fetch(digest, up.source, { onProgress: (n) => heard[1]!.push(n) })
    up.push(data.subarray(40))
    up.end()
    await Promise.all([a, b])
    expect(heard).toEqual([[40, 100], [40, 100]])
  })

  test('without partial reads, a reader behind the window waits for the commit', async () => {
    const driver = withoutPartialReads(createMemoryDriver())
    const fills = new Fills(driver, { window: 1 << 20 })
    const data = bytesOf(3 << 20)
    const digest = sha256(data)
    const up = manualSource(data.byteLength)
    const fill = await fills.open(digest, up.source)
    for (let i = 0; i < 3; i++) up.push(data.subarray(i << 20, (i + 1) << 20))
    await tick()
    // The window still holds the last MiB: served at once.
    expect(await readAll(fill.read(2 << 20, 100))).toEqual(data.subarray(2 << 20, (2 << 20) + 100))
    let settled = false
    const early = readAll(fill.read(0, 100)).finally(() => (settled = true))
    await tick(20)
    expect(settled).toBe(false)
    up.end()
    expect(await early).toEqual(data.subarray(0, 100))
  })

  test('a blob stored meanwhile makes the fill a hit without opening upstream', async () => {
    const driver = createMemoryDriver()
    const data = bytesOf(50)
    const digest = sha256(data)
    await driver.put(blobKey(digest), data, { sha256: digest })
    const up = manualSource(50)
    const fill = await new Fills(driver).open(digest, up.source)
    expect(await readAll(fill.read(10, 5))).toEqual(data.subarray(10, 15))
    expect(up.opens()).toBe(0)
  })
})
