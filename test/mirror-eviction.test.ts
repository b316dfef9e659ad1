/**
 * Eviction against the token-mode testbed: the store is brought under its budget least
 * recently used first, whole mirror manifests before the blobs only they held; Engine API
 * images, blobs being served or filled, and blobs a staying manifest refers to survive; what
 * went is fetched again on the next request. Last, the config's `mirror.maxBytes` at work in
 * the background of a running server.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { parseFileConfig } from '../src/config.ts'
import { createApp } from '../src/http/app.ts'
import { createMirrorStack, type MirrorStack } from '../src/mirror/stack.ts'
import { sha256, type Digest } from '../src/oci/digest.ts'
import { parsePlatform } from '../src/oci/platform.ts'
import { createRegistryClient } from '../src/registry/client.ts'
import { createBlobStore } from '../src/storage/blobs.ts'
import type { StorageDriver } from '../src/storage/driver.ts'
import { createImageStore } from '../src/storage/images.ts'
import { BLOBS_PREFIX, blobKey, REPOSITORIES_PREFIX } from '../src/storage/keys.ts'
import { createMemoryDriver } from '../src/storage/memory.ts'
import { countingProxy, type CountingProxy } from './support/counting-proxy.ts'
import { startInProcess } from './support/edgepull.ts'
import { readMessages } from './support/ndjson.ts'
import { anonymousToken, testbed, type Testbed } from './support/testbed.ts'
import { MANIFEST_ACCEPT as ACCEPT } from '../src/oci/media-types.ts'

let tt: Testbed
let proxy: CountingProxy

beforeAll(async () => {
  tt = await testbed('token')
  proxy = await countingProxy(tt.url)
}, 120_000)
afterAll(() => proxy?.stop())

type Descriptor = { digest: Digest; size: number }
interface Image {
  digest: Digest
  bytes: number
  config: Descriptor
  layers: Descriptor[]
}

/** An image's manifest as upstream has it, read anonymously through its token server. */
async function upstream(repo: string): Promise<Image> {
  const token = await anonymousToken(tt, repo)
  const res = await fetch(`${tt.url}/v2/${repo}/manifests/latest`, {
    headers: { accept: ACCEPT, authorization: `Bearer ${token}` },
  })
  const bytes = new Uint8Array(await res.arrayBuffer())
  const json = JSON.parse(new TextDecoder().decode(bytes))
  const { config, layers } = json
  return { digest: sha256(bytes), bytes: bytes.byteLength, config, layers }
}
const blobsOf = (i: Image): Descriptor[] => [
  { digest: i.digest, size: i.bytes },
  i.config,
  ...i.layers,
]
const sizeOf = (i: Image) => blobsOf(i).reduce((n, d) => n + d.size, 0)

type Call = (path: string, init?: RequestInit) => Promise<Response>

/** The app over a memory store whose budget never triggers a run by itself. */
function build(): { stack: MirrorStack; driver: StorageDriver; request: Call } {
  const driver = createMemoryDriver()
  const blobs = createBlobStore(driver)
  const images = createImageStore(driver)
  const registry = createRegistryClient({ fetch: (r) => fetch(r) })
  const registries = { 'docker.io': { endpoint: proxy.url } }
  const config = parseFileConfig(
    JSON.stringify({ registries, mirror: { maxBytes: '1TiB', evictionGraceSeconds: 0 } })
  )
  const stack = createMirrorStack({ config, driver, blobs, images, registry })
  const app = createApp({
    blobs,
    images,
    registry,
    registries,
    platform: parsePlatform('linux/amd64'),
    maxConcurrentDownloads: 3,
    fills: stack.fills,
    mirror: stack.mirror,
    metrics: stack.metrics,
    runtime: { name: 'bun', version: Bun.version, os: 'linux', arch: 'amd64' },
  })
  const request = (path: string, init: RequestInit = {}) =>
    Promise.resolve(app.request(path, { ...init, headers: { accept: ACCEPT, ...init.headers } }))
  return { stack, driver, request }
}

/** Pulls `repo` through /v2 as a client would: manifest by tag, config, layers. */
async function pullThrough(request: (p: string) => Promise<Response>, name: string, image: Image) {
  expect((await request(`/v2/${name}/manifests/latest`)).status).toBe(200)
  for (const d of [image.config, ...image.layers]) {
    const res = await request(`/v2/${name}/blobs/${d.digest}`)
    expect(sha256(new Uint8Array(await res.arrayBuffer())) as string).toBe(d.digest)
  }
  await Bun.sleep(5) // distinct access times, to the millisecond
}

async function storedBytes(driver: StorageDriver): Promise<number> {
  let total = 0
  for await (const key of driver.list(BLOBS_PREFIX)) total += (await driver.stat(key))?.size ?? 0
  return total
}
const has = async (driver: StorageDriver, d: Digest) => (await driver.stat(blobKey(d))) !== null
async function mirrorKeys(driver: StorageDriver, repo: string): Promise<string[]> {
  const keys: string[] = []
  const prefix = `${REPOSITORIES_PREFIX}docker.io/library/${repo}/`
  for await (const key of driver.list(prefix)) keys.push(key)
  return keys
}

describe('eviction', () => {
  test('LRU manifests go whole; Engine images and what stays referenced remain', async () => {
    const { stack, driver, request } = build()
    const [busybox, layered, many, big] = await Promise.all(
      ['library/busybox', 'library/layered', 'library/many', 'library/big'].map(upstream)
    )
    // An Engine API image: pinned, whatever its age.
    const create = '/v1.45/images/create?fromImage=busybox&tag=latest'
    const pull = await request(create, { method: 'POST' })
    expect((await readMessages(pull)).filter((m) => m.errorDetail)).toEqual([])
    await Bun.sleep(5)
    // big's layer is read first, so it is the oldest blob; its manifest comes last.
    const bigLayer = big.layers[0]!
    const read = await (await request(`/v2/big/blobs/${bigLayer.digest}`)).arrayBuffer()
    expect(read.byteLength).toBe(bigLayer.size)
    await Bun.sleep(5)
    await pullThrough(request, 'layered', layered)
    await pullThrough(request, 'many', many)
    await pullThrough(request, 'big', big)

    // A budget that fits busybox and big, not layered and many as well.
    const keep = sizeOf(busybox) + sizeOf(big)
    const target = keep + 1000
    const before = await storedBytes(driver)
    expect(before).toBeGreaterThan(target)
    // A run gets down to 90% of the budget, so that runs are not back to back.
    const report = await stack.eviction!.run(Math.ceil(target / 0.9))
    const after = await storedBytes(driver)
    expect(after).toBeLessThanOrEqual(target)
    expect(report).toMatchObject({ before, after, manifests: 2 })

    for (const d of blobsOf(busybox)) expect(await has(driver, d.digest)).toBe(true)
    // big's layer was the least recently read blob, but big's manifest stays and holds it.
    for (const d of blobsOf(big)) expect(await has(driver, d.digest)).toBe(true)
    const busyboxLayers = new Set(busybox.layers.map((l) => l.digest))
    for (const image of [layered, many]) {
      for (const d of blobsOf(image)) {
        const kept = busyboxLayers.has(d.digest)
        expect([d.digest, await has(driver, d.digest)]).toEqual([d.digest, kept])
      }
    }
    // Their tags and revisions are gone, and the links to deleted blobs; big's are not.
    for (const repo of ['layered', 'many']) {
      for (const key of await mirrorKeys(driver, repo)) {
        expect(key).not.toContain('/_manifests/')
        const link = /\/_layers\/([0-9a-f]{64})$/.exec(key)
        if (link) expect(await has(driver, `sha256:${link[1]}` as Digest)).toBe(true)
      }
    }
    const bigKeys = await mirrorKeys(driver, 'big')
    expect(bigKeys.some((k) => k.includes('/_manifests/tags/latest'))).toBe(true)

    // What went is fetched again on the next request, and served whole.
    const layer = many.layers[3]!
    const gets = proxy.count('GET', `/library/many/blobs/${layer.digest}`)
    const again = await request(`/v2/many/blobs/${layer.digest}`)
    expect(sha256(new Uint8Array(await again.arrayBuffer())) as string).toBe(layer.digest)
    expect(proxy.count('GET', `/library/many/blobs/${layer.digest}`)).toBe(gets + 1)
    const manifest = await request('/v2/many/manifests/latest')
    expect(manifest.headers.get('docker-content-digest')).toBe(many.digest)
    expect(proxy.count('GET', '/library/many/manifests/latest')).toBe(2)

    const metrics = stack.metrics.render()
    expect(metrics).toContain('edgepull_evicted_manifests_total 2\n')
    expect(metrics).toContain(`edgepull_evicted_bytes_total ${before - after}\n`)
  }, 60_000)

  test('a blob being served stays until its body ends', async () => {
    const { stack, driver, request } = build()
    const layer = (await upstream('library/big')).layers[0]!
    const path = `/v2/big/blobs/${layer.digest}`
    await (await request(path)).arrayBuffer()
    // A slow client: one chunk read, the rest waiting.
    const reader = (await request(path)).body!.getReader()
    const hash = new Bun.CryptoHasher('sha256')
    hash.update((await reader.read()).value!)
    const report = await stack.eviction!.run(0)
    expect(report.blobs).toBe(0)
    expect(await has(driver, layer.digest)).toBe(true)
    for (let r = await reader.read(); !r.done; r = await reader.read()) hash.update(r.value)
    expect(`sha256:${hash.digest('hex')}`).toBe(layer.digest)
    // Served: now it goes.
    expect((await stack.eviction!.run(0)).blobs).toBe(1)
    expect(await has(driver, layer.digest)).toBe(false)
  }, 60_000)

  test('a blob being filled stays, even once another writer stored it', async () => {
    const { stack, driver, request } = build()
    const layer = (await upstream('library/big')).layers[0]!
    const authorization = `Bearer ${await anonymousToken(tt, 'library/big')}`
    const res = await fetch(`${tt.url}/v2/library/big/blobs/${layer.digest}`, {
      headers: { authorization },
    })
    const whole = new Uint8Array(await res.arrayBuffer())
    proxy.bytesPerSecond = 32 << 20 // two seconds for the 64 MiB layer
    try {
      // The client leaves at once; the fill goes on by itself.
      const reader = (await request(`/v2/big/blobs/${layer.digest}`)).body!.getReader()
      await reader.read()
      await reader.cancel()
      expect(stack.fills.current(layer.digest)).toBeDefined()
      // Meanwhile another writer (an image load, say) stores the same blob.
      await createBlobStore(driver).put(layer.digest, whole)
      const report = await stack.eviction!.run(0)
      expect(report.blobs).toBe(0)
      expect(await has(driver, layer.digest)).toBe(true)
      await stack.fills.current(layer.digest)?.done
    } finally {
      proxy.bytesPerSecond = 0
    }
    while (stack.fills.current(layer.digest)) await Bun.sleep(5)
    expect((await stack.eviction!.run(0)).blobs).toBe(1)
  }, 60_000)
})

describe('mirror.maxBytes in the config', () => {
  test('a server over budget evicts in the background, least recently used first', async () => {
    const [many, big] = await Promise.all(['library/many', 'library/big'].map(upstream))
    const ep = await startInProcess({
      registries: { 'docker.io': { endpoint: proxy.url } },
      config: { mirror: { maxBytes: '66MiB', evictionGraceSeconds: 0 } },
    })
    try {
      const request = (path: string) => fetch(`${ep.url}${path}`, { headers: { accept: ACCEPT } })
      // big alone fits; many on top does not: big, the older, goes.
      await pullThrough(request, 'big', big)
      expect(await storedBytes(ep.driver)).toBeLessThanOrEqual(66 << 20)
      await pullThrough(request, 'many', many)
      const deadline = Date.now() + 20_000
      while (await has(ep.driver, big.layers[0]!.digest)) {
        if (Date.now() > deadline) throw new Error('no eviction ran')
        await Bun.sleep(20)
      }
      expect(await storedBytes(ep.driver)).toBeLessThanOrEqual(66 << 20)
      for (const d of blobsOf(many)) expect(await has(ep.driver, d.digest)).toBe(true)
      const metrics = await (await fetch(`${ep.url}/metrics`)).text()
      expect(metrics).toContain(`edgepull_store_budget_bytes ${66 << 20}\n`)
      expect(metrics).toMatch(/edgepull_eviction_runs_total\{result="ok"\} [1-9]/)
    } finally {
      await ep.stop()
    }
  }, 60_000)
})
