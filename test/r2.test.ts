/**
 * The R2 driver, run where it runs in production: inside workerd with a real R2 binding
 * (Miniflare's local R2). test/workers/r2-harness.ts puts the driver behind HTTP and
 * r2-proxy.ts turns that back into a StorageDriver, so the shared conformance suite runs
 * unchanged: once with defaults (single puts) and once with every put multipart.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { join } from 'node:path'
import { DigestMismatchError, sha256 } from '../src/oci/digest.ts'
import { StorageError } from '../src/storage/driver.ts'
import { createR2Driver, partLengthFor, R2_MAX_OBJECT, R2_MAX_PARTS } from '../src/storage/r2.ts'
import { R2_MAX_PUT, type R2DriverOptions } from '../src/storage/r2.ts'
import type { R2Bucket } from '../src/storage/r2-types.ts'
import { bytesOf, drain, driverConformance, streamOf } from './storage-conformance.ts'
import { ROOT } from './support/build.ts'
import type { Call } from './workers/r2-harness.ts'
import { r2Proxy } from './workers/r2-proxy.ts'

const MiB = 1 << 20
let mf: Miniflare
let base: URL
let bucket: R2Bucket

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [join(ROOT, 'test/workers/r2-harness.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    external: ['node:*'],
    write: false,
    logLevel: 'warning',
  })
  mf = new Miniflare({
    modules: true,
    script: bundle.outputFiles[0].text,
    compatibilityDate: '2026-04-01',
    compatibilityFlags: ['nodejs_compat'],
    r2Buckets: ['BLOBS'],
    host: '127.0.0.1',
    port: 0,
    cf: false,
    r2Persist: false,
  })
  base = await mf.ready
  // Miniflare types it with Node's web streams, not the DOM's the driver is checked against;
  // with the stream types set aside, workers-types' R2Bucket satisfies r2-types.ts.
  bucket = (await mf.getR2Bucket('BLOBS')) as unknown as R2Bucket
}, 60_000)

afterAll(() => mf?.dispose(), 30_000)

// Empties the bucket and the call log: each test starts from nothing.
async function fresh(options: R2DriverOptions = {}) {
  for (let page; (page = await bucket.list()).objects.length; ) {
    await bucket.delete(page.objects.map((o) => o.key))
  }
  await calls()
  return r2Proxy(base.href, options)
}

/** The bucket calls the harness's driver made since the last look. */
async function calls(): Promise<Call[]> {
  return (await fetch(new URL('/calls', base))).json() as Promise<Call[]>
}
const ops = (log: Call[], op: string) => log.filter((c) => c.op === op)

const allMultipart = { singlePutLimit: 0, partSize: 5 * MiB, bufferedPartSize: 5 * MiB }
driverConformance('r2', async () => ({ driver: await fresh() }))
driverConformance('r2 (all multipart)', async () => ({ driver: await fresh(allMultipart) }))

describe('r2 driver', () => {
  const data = bytesOf(12 * MiB + 7, 5)
  // Chunks that straddle the 5 MiB part boundaries in several ways.
  const chunks = () => {
    const cuts = [1, 3 * MiB + 1, 6 * MiB + 1, 7 * MiB]
    return streamOf([0, ...cuts].map((at, i) => data.subarray(at, cuts[i] ?? data.byteLength)))
  }

  test('a known-size blob larger than a part goes up in equal streamed parts', async () => {
    const d = await fresh({ singlePutLimit: 5 * MiB, partSize: 5 * MiB })
    const opts = { size: data.byteLength, sha256: sha256(data) }
    const info = await d.put('big/known', chunks().stream, opts)
    expect(info.size).toBe(data.byteLength)
    const log = await calls()
    expect(ops(log, 'uploadPart').map((c) => c.part)).toEqual([1, 2, 3])
    expect(ops(log, 'complete')).toEqual([{ op: 'complete', key: 'big/known', parts: 3 }])
    expect(ops(log, 'put')).toEqual([])
    expect((await bucket.head('big/known'))!.etag).toEndWith('-3') // R2's multipart etag
    expect(await drain((await d.get('big/known'))!.body)).toEqual(data)
    const across = await d.get('big/known', { offset: 5 * MiB - 3, length: 6 })
    expect(await drain(across!.body)).toEqual(data.subarray(5 * MiB - 3, 5 * MiB + 3))
  }, 30_000)

  test('a blob of unknown size is buffered one part at a time', async () => {
    const d = await fresh({ bufferedPartSize: 5 * MiB })
    expect((await d.put('big/unknown', chunks().stream)).size).toBe(data.byteLength)
    const log = await calls()
    expect(ops(log, 'uploadPart').map((c) => c.part)).toEqual([1, 2, 3])
    expect(ops(log, 'complete')).toHaveLength(1)
    expect(await drain((await d.get('big/unknown'))!.body)).toEqual(data)
  }, 30_000)

  test('whole parts: no empty last part; one part of unknown size is a single put', async () => {
    const d = await fresh(allMultipart)
    const ten = data.subarray(0, 10 * MiB)
    await d.put('ten/known', streamOf([ten]).stream, { size: ten.byteLength })
    await d.put('ten/unknown', streamOf([ten.subarray(0, 7 * MiB), ten.subarray(7 * MiB)]).stream)
    await d.put('five/unknown', streamOf([ten.subarray(0, 5 * MiB)]).stream)
    const log = await calls()
    expect(ops(log, 'complete').map((c) => [c.key, c.parts])).toEqual([
      ['ten/known', 2],
      ['ten/unknown', 2],
    ])
    expect(ops(log, 'put').map((c) => c.key)).toEqual(['five/unknown'])
    expect(await drain((await d.get('ten/unknown'))!.body)).toEqual(ten)
    expect((await d.stat('five/unknown'))!.size).toBe(5 * MiB)
  }, 30_000)

  test('a digest mismatch on a multipart put aborts it; the old object stays', async () => {
    const d = await fresh(allMultipart)
    const old = bytesOf(100, 1)
    await d.put('mm/old', old)
    const wrong = sha256(old)
    // Known size: all parts stream up before the hash is known. Unknown size: the last part
    // waits in memory for the end of the body, which is where the hash fails.
    const cases = [['mm/old', data.byteLength, 3], ['mm/new', undefined, 2]] as const
    for (const [key, size, sent] of cases) {
      await calls()
      const put = d.put(key, chunks().stream, { size, sha256: wrong })
      await expect(put).rejects.toBeInstanceOf(DigestMismatchError)
      const log = await calls()
      expect(ops(log, 'uploadPart')).toHaveLength(sent)
      expect(ops(log, 'abort')).toHaveLength(1)
      expect(ops(log, 'complete')).toEqual([])
    }
    expect(await drain((await d.get('mm/old'))!.body)).toEqual(old)
    expect(await bucket.head('mm/new')).toBeNull()
  }, 30_000)

  test('a body error or an abort in the middle of a multipart put aborts it', async () => {
    const d = await fresh({ singlePutLimit: 0, partSize: 5 * MiB })
    const failing = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(data.subarray(0, 7 * MiB))
        c.error(new Error('upstream reset'))
      },
    })
    const put = d.put('mid/error', failing, { size: data.byteLength })
    await expect(put).rejects.toThrow('upstream reset')
    const ac = new AbortController()
    let sent = 0
    const slow = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent === 7) ac.abort()
        else c.enqueue(data.subarray(sent++ * MiB, sent * MiB))
      },
    })
    const aborted = d.put('mid/abort', slow, { size: data.byteLength, signal: ac.signal })
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' })
    const log = await calls()
    expect(ops(log, 'abort').map((c) => c.key)).toEqual(['mid/error', 'mid/abort'])
    expect(ops(log, 'complete')).toEqual([])
    expect(await bucket.list()).toMatchObject({ objects: [] })
  }, 30_000)

  test('single puts hand R2 the sha256 to check as well', async () => {
    const d = await fresh()
    const v = bytesOf(2000, 3)
    await d.put('sum', v, { sha256: sha256(v) })
    const puts = ops(await calls(), 'put')
    expect(puts).toEqual([{ op: 'put', key: 'sum', sha256: sha256(v).slice(7) }])
  })

  // R2 commits a put once the announced length has arrived, before the writer closes, so the
  // driver holds the last chunk back until the body has ended and been checked.
  test('a body longer than its size by a late chunk never becomes visible', async () => {
    const d = await fresh()
    const v = bytesOf(1000, 4)
    let step = 0
    const late = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (step++ === 0) return c.enqueue(v)
        await Bun.sleep(300) // long enough for R2 to have committed 1000 bytes
        c.enqueue(new Uint8Array(1))
        c.close()
      },
    })
    await expect(d.put('late', late, { size: 1000 })).rejects.toBeInstanceOf(DigestMismatchError)
    expect(await bucket.head('late')).toBeNull()
  })

  test('checks ranges itself where R2 would clamp or refuse them', async () => {
    const d = await fresh()
    await d.put('rg', bytesOf(1000))
    await d.put('rg/empty', new Uint8Array(0))
    await calls()
    // R2 serves 10 bytes for this one, and refuses the empty ones.
    await expect(d.get('rg', { offset: 990, length: 20 })).rejects.toBeInstanceOf(StorageError)
    await expect(d.get('rg', { offset: 2000, length: 5 })).rejects.toThrow(/outside rg/)
    const end = await d.get('rg', { offset: 1000, length: 0 })
    expect(end!.range).toEqual({ offset: 1000, length: 0 })
    expect(await drain(end!.body)).toEqual(new Uint8Array(0))
    const none = await d.get('rg/empty', { offset: 0, length: 0 })
    expect([none!.info.size, await drain(none!.body)]).toEqual([0, new Uint8Array(0)])
    expect(await drain((await d.get('rg/empty'))!.body)).toEqual(new Uint8Array(0))
    expect(await d.get('rg/none', { offset: 0, length: 5 })).toBeNull()
    expect(await d.get('rg/none', { offset: 0, length: 0 })).toBeNull()
    await calls()
    const mid = await d.get('rg', { offset: 10, length: 20 })
    expect(await drain(mid!.body)).toEqual(bytesOf(1000).subarray(10, 30))
    expect((await calls()).map((c) => c.op)).toEqual(['get']) // one round trip when it fits
  })

  test('list follows the cursor across pages', async () => {
    const d = await fresh({ listLimit: 2 })
    const keys = ['l/a', 'l/b', 'l/c', 'l/d', 'l/e']
    for (const k of keys) await d.put(k, new Uint8Array([1]))
    await calls()
    const got: string[] = []
    for await (const k of d.list('l/')) got.push(k)
    expect(got).toEqual(keys)
    expect(ops(await calls(), 'list')).toHaveLength(3)
  })

  // Miniflare's Node-side binding serves head, list and delete to bun, but not bodies.
  test('outside workerd it stats and lists, and refuses puts saying why', async () => {
    await (await fresh()).put('outside', bytesOf(10))
    const d = createR2Driver(bucket)
    expect((await d.stat('outside'))!.size).toBe(10)
    const listed: string[] = []
    for await (const k of d.list('out')) listed.push(k)
    expect(listed).toEqual(['outside'])
    const s = streamOf([bytesOf(10)])
    const put = d.put('outside', s.stream, { size: 10 })
    await expect(put).rejects.toThrow(/FixedLengthStream is missing.*Workers runtime/)
    expect(s.cancelled).toBe(true)
    expect(await d.delete('outside')).toBe(true)
  })

  test('options are checked against R2 limits', () => {
    expect(() => createR2Driver(bucket, { partSize: 4 * MiB })).toThrow(RangeError)
    expect(() => createR2Driver(bucket, { singlePutLimit: 6 * 1024 * MiB })).toThrow(RangeError)
    expect(() => createR2Driver(bucket, { listLimit: 1001 })).toThrow(RangeError)
  })

  test('part length grows to fit any object R2 can hold in 10,000 parts', () => {
    expect(partLengthFor(5 * 1024 * MiB, 64 * MiB)).toBe(64 * MiB)
    for (const size of [640 * 1024 * MiB, R2_MAX_OBJECT]) {
      const part = partLengthFor(size, 64 * MiB)
      expect(part).toBeGreaterThan(64 * MiB)
      expect(part).toBeLessThanOrEqual(R2_MAX_PUT)
      expect(Math.ceil(size / part)).toBeLessThanOrEqual(R2_MAX_PARTS)
    }
  })
})
