/**
 * The one suite every StorageDriver passes (distribution's driver/testsuites, in spirit).
 * A driver's test file is a few lines: `driverConformance('fs', async () => ({ driver }))`.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { DigestMismatchError, sha256, Sha256Counter } from '../src/oci/digest.ts'
import type { StorageDriver } from '../src/storage/driver.ts'
import { InvalidKeyError } from '../src/storage/keys.ts'

/** What a driver factory hands the suite; `cleanup` runs after each test. */
export interface DriverUnderTest {
  driver: StorageDriver
  cleanup?: () => Promise<void>
}

const MiB = 1 << 20

/** Deterministic pseudo-random bytes (xorshift), different per seed. */
export function bytesOf(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed * 2654435761 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/** A stream that hands out `parts` one per pull, and records whether it was cancelled. */
export function streamOf(parts: Uint8Array[]) {
  const state = { cancelled: false, pulls: 0 }
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        const next = parts[state.pulls++]
        if (next) c.enqueue(next)
        else c.close()
      },
      cancel() {
        state.cancelled = true
      },
    },
    { highWaterMark: 0 }
  )
  return Object.assign(state, { stream })
}

/** Reads a stream to one array. */
export async function drain(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body).arrayBuffer())
}

const text = (s: string) => new TextEncoder().encode(s)
const split = (b: Uint8Array, at: number[]) =>
  [0, ...at].map((start, i) => b.subarray(start, at[i] ?? b.byteLength))

// Sends `head`, then waits for open() before sending `tail`: a put caught mid-way.
function gated(head: Uint8Array, tail: Uint8Array) {
  let open!: () => void
  let reached!: () => void
  const gate = new Promise<void>((r) => (open = r))
  const waiting = new Promise<void>((r) => (reached = r))
  const state = { cancelled: false }
  let step = 0
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        step++
        if (step === 1) return c.enqueue(head)
        if (step > 2) return c.close()
        reached()
        await gate
        c.enqueue(tail)
      },
      cancel() {
        state.cancelled = true
      },
    },
    { highWaterMark: 0 }
  )
  return Object.assign(state, { body, open, waiting })
}

// Live heap after a full collection: what a driver really holds, garbage excluded.
function liveHeap(): number {
  const g = globalThis as { Bun?: { gc(full: boolean): void }; gc?: () => void }
  if (g.Bun) g.Bun.gc(true)
  else g.gc?.()
  return process.memoryUsage().heapUsed
}

/** Registers the conformance tests for the driver `make` builds (fresh per test). */
export function driverConformance(name: string, make: () => Promise<DriverUnderTest>): void {
  describe(`${name} driver conformance`, () => {
    let d: StorageDriver
    let cleanup: (() => Promise<void>) | undefined
    beforeEach(async () => {
      ;({ driver: d, cleanup } = await make())
    })
    afterEach(async () => {
      await cleanup?.()
    })

    const read = async (key: string) => {
      const o = await d.get(key)
      return o && drain(o.body)
    }
    const listAll = async (prefix: string) => {
      const keys: string[] = []
      for await (const k of d.list(prefix)) keys.push(k)
      return keys.sort()
    }
    const expectAbsent = async (key: string) => {
      expect(await d.stat(key)).toBeNull()
      expect(await d.get(key)).toBeNull()
      expect(await listAll('')).not.toContain(key)
    }

    test('round-trips bytes', async () => {
      const data = bytesOf(1000)
      const before = Date.now()
      const info = await d.put('a/b/one', data)
      expect(info).toMatchObject({ key: 'a/b/one', size: 1000 })
      const o = await d.get('a/b/one')
      expect(o!.info).toEqual(info)
      expect(o!.range).toEqual({ offset: 0, length: 1000 })
      expect(await drain(o!.body)).toEqual(data)
      // File systems stamp with a coarse clock; allow for it.
      expect(info.modified).toBeGreaterThanOrEqual(before - 2000)
      expect(info.modified).toBeLessThanOrEqual(Date.now() + 2000)
    })

    test('round-trips a chunked stream, empty chunks included', async () => {
      const data = bytesOf(3 * MiB + 17, 2)
      const parts = [...split(data, [1, 100, 100, 70_000, MiB, 2 * MiB + 5]), new Uint8Array(0)]
      const info = await d.put('chunked', streamOf(parts).stream)
      expect(info.size).toBe(data.byteLength)
      expect(await read('chunked')).toEqual(data)
    })

    test('round-trips an empty object', async () => {
      expect((await d.put('empty', new Uint8Array(0), { size: 0 })).size).toBe(0)
      expect((await d.stat('empty'))!.size).toBe(0)
      expect(await read('empty')).toEqual(new Uint8Array(0))
    })

    test('stat reports size and modification time, as put did', async () => {
      const info = await d.put('s/t', bytesOf(4321))
      expect(await d.stat('s/t')).toEqual(info)
    })

    test('reads ranges at the start, middle and end, and zero-length ones', async () => {
      const data = bytesOf(3 * MiB, 3)
      await d.put('r', data)
      const cases = [
        { offset: 0, length: 10 },
        { offset: MiB - 5, length: MiB + 10 }, // crosses read-chunk boundaries
        { offset: 3 * MiB - 10, length: 10 },
        { offset: 0, length: 3 * MiB },
        { offset: 12345, length: 0 },
        { offset: 3 * MiB, length: 0 },
      ]
      for (const range of cases) {
        const o = await d.get('r', range)
        expect(o!.range).toEqual(range)
        expect(o!.info.size).toBe(3 * MiB)
        const want = data.subarray(range.offset, range.offset + range.length)
        expect(await drain(o!.body)).toEqual(want)
      }
    })

    test('rejects ranges outside the object', async () => {
      await d.put('r', bytesOf(100))
      for (const range of [
        { offset: 90, length: 11 },
        { offset: 101, length: 0 },
        { offset: -1, length: 5 },
      ]) {
        await expect(d.get('r', range)).rejects.toThrow()
      }
    })

    test('overwrite replaces the object', async () => {
      await d.put('o', bytesOf(5000, 1))
      const v2 = bytesOf(300, 2)
      await d.put('o', streamOf([v2]).stream)
      expect((await d.stat('o'))!.size).toBe(300)
      expect(await read('o')).toEqual(v2)
      expect(await listAll('o')).toEqual(['o'])
    })

    test('sha256 match is accepted, mismatch rejected and the old object kept', async () => {
      const v1 = bytesOf(100, 1)
      const v2 = bytesOf(100, 2)
      await d.put('h', v1, { sha256: sha256(v1), size: 100 })
      for (const body of [v2, streamOf(split(v2, [50])).stream]) {
        const put = d.put('h', body, { sha256: sha256(v1) })
        await expect(put).rejects.toBeInstanceOf(DigestMismatchError)
      }
      expect(await read('h')).toEqual(v1)
      await expect(d.put('fresh', v2, { sha256: sha256(v1) })).rejects.toBeInstanceOf(
        DigestMismatchError
      )
      await expectAbsent('fresh')
    })

    test('a body shorter or longer than size is rejected, leaving nothing', async () => {
      const data = bytesOf(1000)
      const bodies = (): Array<ReadableStream<Uint8Array> | Uint8Array> => [
        data,
        streamOf(split(data, [400])).stream,
      ]
      for (const size of [999, 1001]) {
        for (const body of bodies()) {
          await expect(d.put('n', body, { size })).rejects.toBeInstanceOf(DigestMismatchError)
          await expectAbsent('n')
        }
      }
    })

    test('a body that errors mid-way rejects with its error, leaving the old object', async () => {
      const old = bytesOf(10, 9)
      await d.put('e/old', old)
      for (const key of ['e/old', 'e/new']) {
        let pulls = 0
        const body = new ReadableStream<Uint8Array>({
          pull(c) {
            if (pulls++ < 2) c.enqueue(bytesOf(MiB, pulls))
            else c.error(new Error('upstream reset'))
          },
        })
        await expect(d.put(key, body)).rejects.toThrow('upstream reset')
      }
      expect(await read('e/old')).toEqual(old)
      await expectAbsent('e/new')
    })

    test('aborting mid-put rejects, cancels the body and leaves nothing', async () => {
      const ac = new AbortController()
      const g = gated(bytesOf(MiB), bytesOf(10))
      const put = d.put('ab', g.body, { signal: ac.signal })
      await g.waiting
      ac.abort()
      await expect(put).rejects.toMatchObject({ name: 'AbortError' })
      expect(g.cancelled).toBe(true)
      await expectAbsent('ab')
    })

    test('an already aborted signal rejects and cancels the body', async () => {
      const s = streamOf([bytesOf(10)])
      await expect(d.put('ab', s.stream, { signal: AbortSignal.abort() })).rejects.toMatchObject({
        name: 'AbortError',
      })
      expect(s.cancelled).toBe(true)
      await expectAbsent('ab')
    })

    test('concurrent puts of the same content to one key all succeed', async () => {
      const data = bytesOf(2 * MiB + 3, 4)
      const puts = [1, 2, 3, 4].map(() =>
        d.put('c/same', streamOf(split(data, [1000, MiB])).stream, { sha256: sha256(data) })
      )
      for (const info of await Promise.all(puts)) expect(info.size).toBe(data.byteLength)
      expect(await read('c/same')).toEqual(data)
      expect(await listAll('c/')).toEqual(['c/same'])
    })

    test('readers see the old object or nothing while a put is in progress', async () => {
      const v1 = bytesOf(1500, 1)
      const v2 = bytesOf(3 * MiB, 2)
      await d.put('p/x', v1)
      const over = gated(v2.subarray(0, MiB), v2.subarray(MiB))
      const fresh = gated(v2.subarray(0, MiB), v2.subarray(MiB))
      const puts = [d.put('p/x', over.body), d.put('p/y', fresh.body)]
      await Promise.all([over.waiting, fresh.waiting])
      const reads = await Promise.all([read('p/x'), read('p/x'), d.stat('p/x'), read('p/y')])
      expect(reads).toEqual([v1, v1, expect.objectContaining({ size: 1500 }), null])
      expect(await d.stat('p/y')).toBeNull()
      expect(await listAll('p/')).toEqual(['p/x'])
      over.open()
      fresh.open()
      await Promise.all(puts)
      expect(await read('p/x')).toEqual(v2)
      expect(await read('p/y')).toEqual(v2)
    })

    test('missing keys: get and stat give null, delete gives false', async () => {
      expect(await d.get('no/such')).toBeNull()
      expect(await d.stat('no/such')).toBeNull()
      expect(await d.delete('no/such')).toBe(false)
      await d.put('no/such/deeper', text('x'))
      expect(await d.get('no/such')).toBeNull() // a "directory" is not an object
      expect(await d.delete('no/such')).toBe(false)
    })

    test('delete removes the object', async () => {
      await d.put('del/me', text('bye'))
      expect(await d.delete('del/me')).toBe(true)
      await expectAbsent('del/me')
      expect(await d.delete('del/me')).toBe(false)
      await d.put('del/me', text('back'))
      expect(await read('del/me')).toEqual(text('back'))
    })

    test('list walks nested keys by string prefix', async () => {
      const keys = ['a/b/c', 'a/b/d', 'a/e', 'ab/f', 'b/g/h/i/j']
      for (const k of keys) await d.put(k, text(k))
      expect(await listAll('')).toEqual(keys)
      expect(await listAll('a/')).toEqual(['a/b/c', 'a/b/d', 'a/e'])
      expect(await listAll('a/b/')).toEqual(['a/b/c', 'a/b/d'])
      expect(await listAll('a')).toEqual(['a/b/c', 'a/b/d', 'a/e', 'ab/f'])
      expect(await listAll('a/b/c')).toEqual(['a/b/c'])
      expect(await listAll('b/g/h/')).toEqual(['b/g/h/i/j'])
      expect(await listAll('zz/')).toEqual([])
      await d.delete('a/b/c')
      await d.delete('a/b/d')
      expect(await listAll('a/')).toEqual(['a/e'])
    })

    test('rejects malformed keys and prefixes', async () => {
      const bad = ['', '/a', 'a/', 'a//b', '../x', 'a/../b', './a', '.hidden', 'a\\b', 'a\0b']
      for (const key of bad) {
        await expect(d.put(key, text('x'))).rejects.toBeInstanceOf(InvalidKeyError)
        await expect(d.get(key)).rejects.toBeInstanceOf(InvalidKeyError)
        await expect(d.stat(key)).rejects.toBeInstanceOf(InvalidKeyError)
        await expect(d.delete(key)).rejects.toBeInstanceOf(InvalidKeyError)
      }
      const s = streamOf([text('x')])
      await expect(d.put('../x', s.stream)).rejects.toBeInstanceOf(InvalidKeyError)
      expect(s.cancelled).toBe(true)
      for (const prefix of ['/', '../', 'a//', '.']) {
        await expect(listAll(prefix)).rejects.toBeInstanceOf(InvalidKeyError)
      }
      expect(await listAll('')).toEqual([])
    })

    test('streams a 32 MiB blob in and out with flat memory', async () => {
      const size = 32 * MiB
      const chunk = 64 * 1024
      // Chunks are made on the fly; every 4 MiB the live heap is sampled.
      const generate = (onSample: () => void) => {
        let sent = 0
        return new ReadableStream<Uint8Array>(
          {
            pull(c) {
              if (sent % (4 * MiB) === 0) onSample()
              if (sent === size) return c.close()
              c.enqueue(new Uint8Array(chunk).fill((sent / chunk) & 0xff))
              sent += chunk
            },
          },
          { highWaterMark: 0 }
        )
      }
      const want = new Sha256Counter()
      await generate(() => {}).pipeTo(new WritableStream({ write: (c) => want.update(c) }))
      const digest = want.digest()

      // bun test runs every file in one process, and work other files left running (a fill
      // retrying in the background) allocates too: the best of three puts is the driver's own.
      // Buffering the blob would show 32 MiB in every one.
      let base = 0
      let kept = 0
      let transient = Infinity
      let key = ''
      for (let attempt = 0; attempt < 3 && transient >= 8 * MiB; attempt++) {
        key = `big-${attempt}`
        base = liveHeap()
        let peak = 0
        const sample = () => (peak = Math.max(peak, liveHeap() - base))
        await d.put(key, generate(sample), { size, sha256: digest })
        // Whatever the driver keeps afterwards (the memory driver keeps it all) is not transient.
        kept = liveHeap() - base
        transient = Math.min(transient, peak - kept)
      }
      expect(transient).toBeLessThan(8 * MiB)

      const got = new Sha256Counter()
      let readPeak = 0
      for await (const c of (await d.get(key))!.body) {
        got.update(c)
        if (got.size % (4 * MiB) < c.byteLength) {
          readPeak = Math.max(readPeak, liveHeap() - base - kept)
        }
      }
      expect(got.size).toBe(size)
      expect(got.digest()).toBe(digest)
      expect(readPeak).toBeLessThan(8 * MiB)
    }, 60_000)
  })
}
