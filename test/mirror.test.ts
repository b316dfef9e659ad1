/**
 * The /v2 pull-through mirror against the real upstream registry, seen through a counting
 * proxy: exact manifests, one upstream GET per blob however many clients, Range on hits and
 * misses, upstream choice, per-repository links, stale tags, the admin API.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mirrorApp } from '../src/http/v2/app.ts'
import type { MirrorEvent } from '../src/mirror/events.ts'
import { createMirror } from '../src/mirror/mirror.ts'
import { sha256, type Digest } from '../src/oci/digest.ts'
import { Fills } from '../src/pull/fills.ts'
import { createRegistryClient } from '../src/registry/client.ts'
import { createBlobStore } from '../src/storage/blobs.ts'
import { blobKey, mirrorLayerKey } from '../src/storage/keys.ts'
import type { StorageDriver } from '../src/storage/driver.ts'
import { createImageStore } from '../src/storage/images.ts'
import { exclusive } from '../src/storage/lock.ts'
import { releaseBlobs } from '../src/images/release.ts'
import { createMemoryDriver } from '../src/storage/memory.ts'
import { countingFetch } from './support/counting-fetch.ts'
import { eventually } from './support/eventually.ts'
import { countingProxy, type CountingProxy } from './support/counting-proxy.ts'
import { startInProcess, type InProcess } from './support/edgepull.ts'
import { readMessages } from './support/ndjson.ts'
import { testbed, type Testbed } from './support/testbed.ts'
import { MANIFEST_ACCEPT as ACCEPT } from '../src/oci/media-types.ts'

let tb: Testbed

/** Typed loosely on purpose: `toEqual` compares it with subarrays of other buffers. */
const bodyBytes = async (res: Response): Promise<Uint8Array> =>
  new Uint8Array(await res.arrayBuffer())

async function upstreamManifest(repo: string, ref: string) {
  const res = await fetch(`${tb.url}/v2/${repo}/manifests/${ref}`, { headers: { accept: ACCEPT } })
  const bytes = await bodyBytes(res)
  return {
    bytes,
    digest: res.headers.get('docker-content-digest') as Digest,
    type: res.headers.get('content-type'),
    json: JSON.parse(new TextDecoder().decode(bytes)),
  }
}

type Layer = { digest: Digest; size: number }
const layerOf = async (repo: string, i = 0): Promise<Layer> =>
  (await upstreamManifest(repo, 'latest')).json.layers[i]

const upstreamBlob = async (repo: string, digest: string): Promise<Uint8Array> =>
  bodyBytes(await fetch(`${tb.url}/v2/${repo}/blobs/${digest}`))

const get = (ep: InProcess, path: string, init: RequestInit = {}) =>
  fetch(`${ep.url}${path}`, { ...init, headers: { accept: ACCEPT, ...init.headers } })

async function errorOf(res: Response) {
  expect(res.headers.get('content-type')).toStartWith('application/json')
  expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0')
  return ((await res.json()) as { errors: Array<{ code: string; message: string }> }).errors[0]!
}

const stored = (ep: InProcess, d: Digest) => ep.driver.stat(blobKey(d))

/** A mirror on an fs store whose docker.io is `p`. */
const through = (p: CountingProxy) =>
  startInProcess({ registries: { 'docker.io': { endpoint: p.url } }, store: 'fs' })

let proxy: CountingProxy
let ep: InProcess

beforeAll(async () => {
  tb = await testbed('open')
  proxy = await countingProxy(tb.url)
  ep = await startInProcess({ registries: { 'docker.io': { endpoint: proxy.url } }, store: 'fs' })
}, 120_000)
afterAll(async () => {
  await ep?.stop()
  await proxy?.stop()
})

describe('the /v2 API', () => {
  test('GET /v2/ says registry/2.0: a challenge for callers without credentials, then {}', async () => {
    const ping = await get(ep, '/v2/')
    expect(ping.status).toBe(401)
    expect(ping.headers.get('docker-distribution-api-version')).toBe('registry/2.0')
    expect(ping.headers.get('www-authenticate')).toBe(
      `Bearer realm="${ep.url}/v2/token",service="edgepull"`
    )
    const { token } = (await (await get(ep, '/v2/token')).json()) as { token: string }
    const res = await get(ep, '/v2/', { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0')
    expect(await res.json()).toEqual({})
  })

  test('manifests and indexes are served byte-exact with type, digest and length', async () => {
    for (const [path, repo, ref] of [
      ['busybox', 'library/busybox', 'latest'],
      ['library/layered', 'library/layered', 'v1'],
      ['multiarch', 'library/multiarch', 'latest'],
      ['busybox-v2s2', 'library/busybox-v2s2', 'latest'],
    ] as const) {
      const up = await upstreamManifest(repo, ref)
      const res = await get(ep, `/v2/${path}/manifests/${ref}`)
      expect(res.status).toBe(200)
      expect(await bodyBytes(res)).toEqual(up.bytes)
      expect(res.headers.get('content-type')).toBe(up.type)
      expect(res.headers.get('docker-content-digest')).toBe(up.digest)
      expect(res.headers.get('content-length')).toBe(String(up.bytes.byteLength))
      expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0')
    }
  }, 60_000)

  test('HEAD gives digest, type and length without a body, cold or cached', async () => {
    const up = await upstreamManifest('library/many', 'latest')
    for (let i = 0; i < 2; i++) {
      const res = await get(ep, '/v2/many/manifests/latest', { method: 'HEAD' })
      expect(res.status).toBe(200)
      expect(res.headers.get('docker-content-digest')).toBe(up.digest)
      expect(res.headers.get('content-length')).toBe(String(up.bytes.byteLength))
      expect(res.headers.get('content-type')).toBe(up.type)
      expect((await res.arrayBuffer()).byteLength).toBe(0)
    }
  }, 60_000)

  test('a manifest by digest is fetched once, then served from the store', async () => {
    const up = await upstreamManifest('library/layered', 'latest')
    const path = `/v2/library/layered/manifests/${up.digest}`
    for (let i = 0; i < 3; i++) {
      const res = await get(ep, path)
      expect(await bodyBytes(res)).toEqual(up.bytes)
    }
    expect(proxy.count('GET', `/library/layered/manifests/${up.digest}`)).toBeLessThanOrEqual(1)
    const before = proxy.seen.length
    expect((await get(ep, path)).status).toBe(200)
    expect(proxy.seen.length).toBe(before)
  }, 60_000)

  test('concurrent cold requests for a tag or a digest cost one upstream GET each', async () => {
    const p = await countingProxy(tb.url)
    p.bytesPerSecond = 64 << 10 // slow enough for every request to arrive while one is out
    const e = await through(p)
    try {
      const up = await upstreamManifest('library/multiarch', 'latest')
      const child = up.json.manifests[0].digest as Digest
      const results = await Promise.all(
        ['latest', child].flatMap((ref) =>
          Array.from({ length: 8 }, () =>
            get(e, `/v2/multiarch/manifests/${ref}`).then((r) => r.headers.get('docker-content-digest'))
          )
        )
      )
      expect(results).toEqual([...Array(8).fill(up.digest), ...Array(8).fill(child)])
      expect(p.count('GET', '/manifests/latest')).toBe(1)
      expect(p.count('GET', `/manifests/${child}`)).toBe(1)
    } finally {
      await e.stop()
      await p.stop()
    }
  }, 60_000)

  test('tags/list with n, last and a Link to the next page', async () => {
    const res = await get(ep, '/v2/layered/tags/list?n=1')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ name: 'layered', tags: ['latest'] })
    expect(res.headers.get('link')).toBe('</v2/layered/tags/list?n=1&last=latest>; rel="next"')
    const next = await get(ep, '/v2/layered/tags/list?n=1&last=latest')
    expect(await next.json()).toEqual({ name: 'layered', tags: ['v1'] })
  }, 60_000)

  test('failures are OCI envelopes with the spec codes and statuses', async () => {
    const missing = `sha256:${'0'.repeat(64)}`
    const cases: Array<[string, RequestInit, number, string]> = [
      ['/v2/busybox/manifests/nope', {}, 404, 'MANIFEST_UNKNOWN'],
      [`/v2/busybox/manifests/${missing}`, {}, 404, 'MANIFEST_UNKNOWN'],
      [`/v2/busybox/blobs/${missing}`, {}, 404, 'BLOB_UNKNOWN'],
      ['/v2/busybox/blobs/sha256:nothex', {}, 400, 'DIGEST_INVALID'],
      ['/v2/Busybox/manifests/latest', {}, 400, 'NAME_INVALID'],
      ['/v2/nosuchrepo/tags/list', {}, 404, 'NAME_UNKNOWN'],
      ['/v2/busybox/referrers/x/y', {}, 404, 'UNSUPPORTED'],
      ['/v2/busybox/manifests/latest', { method: 'PUT', body: '{}' }, 405, 'UNSUPPORTED'],
      ['/v2/busybox/blobs/uploads/', { method: 'POST' }, 405, 'UNSUPPORTED'],
    ]
    for (const [path, init, status, code] of cases) {
      const res = await get(ep, path, init)
      expect([path, res.status]).toEqual([path, status])
      expect((await errorOf(res)).code).toBe(code)
    }
  }, 60_000)

  test('the Engine API is untouched: /v2 is not a version prefix there, and /_ping still works', async () => {
    expect((await get(ep, '/_ping')).status).toBe(200)
    expect((await get(ep, '/v1.41/_ping')).status).toBe(200)
    expect((await errorOf(await get(ep, '/v2/_ping'))).code).toBe('UNSUPPORTED')
  })
})

describe('blobs: one upstream GET, however many ask', () => {
  test('eight concurrent cold clients get correct bytes as they arrive; upstream sees one GET', async () => {
    const p = await countingProxy(tb.url)
    p.bytesPerSecond = 128 << 20
    const e = await through(p)
    try {
      const big = await layerOf('library/big')
      const firstChunkBeforeCommit: boolean[] = []
      const clients = Array.from({ length: 8 }, async () => {
        const res = await get(e, `/v2/big/blobs/${big.digest}`)
        expect(res.status).toBe(200)
        const reader = res.body!.getReader()
        const hash = new Bun.CryptoHasher('sha256')
        let size = 0
        for (let first = true; ; first = false) {
          const { done, value } = await reader.read()
          if (done) break
          if (first) firstChunkBeforeCommit.push((await stored(e, big.digest)) === null)
          hash.update(value)
          size += value.byteLength
        }
        return { size, digest: `sha256:${hash.digest('hex')}` }
      })
      for (const r of await Promise.all(clients)) {
        expect(r).toEqual({ size: big.size, digest: big.digest })
      }
      expect(p.count('GET', `/blobs/${big.digest}`)).toBe(1)
      // Nobody waited for the whole blob before reading: they tailed the fill.
      expect(firstChunkBeforeCommit).toEqual(Array(8).fill(true))
      // The last byte left once verified; the commit (sync, rename) may still be under way.
      await eventually(async () => (await stored(e, big.digest)) !== null)
      expect((await stored(e, big.digest))?.size).toBe(big.size)
    } finally {
      await e.stop()
      await p.stop()
    }
  }, 60_000)

  test('a Range on a miss is answered before the fill completes, which then completes alone', async () => {
    const p = await countingProxy(tb.url)
    p.bytesPerSecond = 32 << 20 // two seconds for the 64 MiB blob
    const e = await through(p)
    try {
      const big = await layerOf('library/big')
      const whole = await upstreamBlob('library/big', big.digest)
      const path = `/v2/big/blobs/${big.digest}`
      const res = await get(e, path, { headers: { range: 'bytes=1000-1999' } })
      expect(res.status).toBe(206)
      expect(res.headers.get('content-range')).toBe(`bytes 1000-1999/${big.size}`)
      expect(await bodyBytes(res)).toEqual(whole.subarray(1000, 2000))
      // The 206 is complete while the blob is not in the store yet.
      expect(await stored(e, big.digest)).toBeNull()
      const mid = await get(e, path, { headers: { range: 'bytes=4194304-4194399' } })
      expect(mid.status).toBe(206)
      expect(await bodyBytes(mid)).toEqual(whole.subarray(4194304, 4194400))
      // Nobody waits on the rest; the detached fill still completes and verifies.
      await eventually(async () => (await stored(e, big.digest)) !== null)
      expect(p.count('GET', `/blobs/${big.digest}`)).toBe(1)
    } finally {
      await e.stop()
      await p.stop()
    }
  }, 60_000)

  test('Range on a hit: a range, a suffix, open-ended; 416 beyond the end; several ranges → 200', async () => {
    const l = await layerOf('library/busybox')
    const whole = await upstreamBlob('library/busybox', l.digest)
    const path = `/v2/busybox/blobs/${l.digest}`
    expect((await get(ep, path)).status).toBe(200)
    const ranged = async (range: string) => get(ep, path, { headers: { range } })
    let res = await ranged('bytes=100-199')
    expect([res.status, res.headers.get('content-range')]).toEqual([206, `bytes 100-199/${l.size}`])
    expect(await bodyBytes(res)).toEqual(whole.subarray(100, 200))
    res = await ranged('bytes=-10')
    expect(res.headers.get('content-range')).toBe(`bytes ${l.size - 10}-${l.size - 1}/${l.size}`)
    expect(await bodyBytes(res)).toEqual(whole.subarray(l.size - 10))
    res = await ranged(`bytes=${l.size - 5}-`)
    expect(await bodyBytes(res)).toEqual(whole.subarray(l.size - 5))
    res = await ranged(`bytes=${l.size}-`)
    expect(res.status).toBe(416)
    expect(res.headers.get('content-range')).toBe(`bytes */${l.size}`)
    expect((await errorOf(res)).code).toBe('RANGE_INVALID')
    res = await ranged('bytes=0-1,5-6')
    expect(res.status).toBe(200)
    expect(await bodyBytes(res)).toEqual(whole)
  }, 60_000)

  test('HEAD of a blob: digest and length; on a miss upstream is asked, nothing is fetched', async () => {
    const l = await layerOf('library/many')
    const e = await startInProcess({ registries: { 'docker.io': { endpoint: proxy.url } } })
    try {
      const gets = proxy.count('GET', `/blobs/${l.digest}`)
      const res = await get(e, `/v2/many/blobs/${l.digest}`, { method: 'HEAD' })
      expect(res.status).toBe(200)
      expect(res.headers.get('docker-content-digest')).toBe(l.digest)
      expect(res.headers.get('content-length')).toBe(String(l.size))
      expect(proxy.count('GET', `/blobs/${l.digest}`)).toBe(gets)
      expect(await stored(e, l.digest)).toBeNull()
    } finally {
      await e.stop()
    }
  }, 60_000)

  test('a client that disconnects mid-fill does not break the others', async () => {
    const p = await countingProxy(tb.url)
    p.bytesPerSecond = 64 << 20
    const e = await through(p)
    try {
      const big = await layerOf('library/big')
      const leaver = new AbortController()
      const left = (async () => {
        const res = await get(e, `/v2/big/blobs/${big.digest}`, { signal: leaver.signal })
        const reader = res.body!.getReader()
        await reader.read()
        leaver.abort()
        await reader.read().catch(() => {})
      })()
      const stayer = get(e, `/v2/big/blobs/${big.digest}`).then(async (res) =>
        sha256(await bodyBytes(res))
      )
      await left
      expect(await stayer).toBe(big.digest)
      expect(p.count('GET', `/blobs/${big.digest}`)).toBe(1)
      await eventually(async () => (await stored(e, big.digest)) !== null)
      expect((await stored(e, big.digest))?.size).toBe(big.size)
    } finally {
      await e.stop()
      await p.stop()
    }
  }, 60_000)

  test('a pull through /images/create and a mirror GET of the same blob share one upstream GET', async () => {
    const p = await countingProxy(tb.url)
    p.bytesPerSecond = 32 << 20
    const e = await through(p)
    try {
      const big = await layerOf('library/big')
      const create = `${e.url}/v1.50/images/create?fromImage=big&tag=latest`
      const pull = fetch(create, { method: 'POST' }).then(readMessages)
      await eventually(async () => p.count('GET', `/blobs/${big.digest}`) === 1)
      const res = await get(e, `/v2/big/blobs/${big.digest}`)
      expect(sha256(await bodyBytes(res))).toBe(big.digest)
      const messages = await pull
      expect(messages.filter((m) => m.errorDetail)).toEqual([])
      expect(messages.at(-1)?.status).toBe('Status: Downloaded newer image for big:latest')
      expect(p.count('GET', `/blobs/${big.digest}`)).toBe(1)
    } finally {
      await e.stop()
      await p.stop()
    }
  }, 60_000)

  test('a blob cached through one repository is served through another only once upstream confirms', async () => {
    const busybox = await layerOf('library/busybox')
    expect((await get(ep, `/v2/busybox/blobs/${busybox.digest}`)).status).toBe(200)
    // library/layered has the busybox layer too: a HEAD upstream confirms it, no GET.
    const res = await get(ep, `/v2/layered/blobs/${busybox.digest}`)
    expect(res.status).toBe(200)
    expect(sha256(await bodyBytes(res))).toBe(busybox.digest)
    expect(proxy.count('HEAD', `/library/layered/blobs/${busybox.digest}`)).toBe(1)
    expect(proxy.count('GET', `/library/layered/blobs/${busybox.digest}`)).toBe(0)
    // The link is kept: the next request asks upstream nothing.
    await get(ep, `/v2/layered/blobs/${busybox.digest}`).then((r) => r.arrayBuffer())
    expect(proxy.count('HEAD', `/library/layered/blobs/${busybox.digest}`)).toBe(1)
    // library/busybox does not have the big layer: a cached copy is no key to it.
    const big = await layerOf('library/big')
    await get(ep, `/v2/big/blobs/${big.digest}`).then((r) => r.arrayBuffer())
    await eventually(async () => (await stored(ep, big.digest)) !== null)
    const denied = await get(ep, `/v2/busybox/blobs/${big.digest}`)
    expect(denied.status).toBe(404)
    expect((await errorOf(denied)).code).toBe('BLOB_UNKNOWN')
  }, 60_000)

  test('a blob that fails verification reaches no client whole and is not stored', async () => {
    const faulty = countingFetch()
    const e = await startInProcess({
      registries: { 'docker.io': { endpoint: tb.url } },
      fetch: faulty.fetch,
    })
    try {
      const l = await layerOf('library/layered', 1)
      faulty.corrupt(l.digest)
      // Either the failure is known before the answer starts (502), or the body is cut short:
      // the last byte waits for verification.
      const got = await get(e, `/v2/layered/blobs/${l.digest}`).then(
        async (res) => {
          if (res.status !== 200) return `${res.status} ${(await errorOf(res)).code}`
          return res.arrayBuffer().then((b) => b.byteLength, () => 'cut short')
        },
        () => 'cut short'
      )
      const short = typeof got === 'number' && got < l.size
      expect(got === '502 UNKNOWN' || got === 'cut short' || short).toBe(true)
      expect(await stored(e, l.digest)).toBeNull()
      // The next request fills afresh, and correctly.
      const again = await get(e, `/v2/layered/blobs/${l.digest}`)
      expect(sha256(await bodyBytes(again))).toBe(l.digest)
    } finally {
      await e.stop()
    }
  }, 60_000)

  test('a filled blob not yet linked survives an rmi or prune that would free it', async () => {
    // Hold the layer link's write: the blob is stored, but no link holds it yet.
    let linked!: () => void
    const gate = new Promise<void>((r) => (linked = r))
    const inner = createMemoryDriver()
    const driver: StorageDriver = {
      ...inner,
      async put(key, body, opts) {
        if (key.includes('/_layers/')) await gate
        return inner.put(key, body, opts)
      },
    }
    const blobs = createBlobStore(driver)
    const mirror = createMirror({
      driver,
      blobs,
      fills: new Fills(driver),
      registry: createRegistryClient({ fetch: (r) => fetch(r) }),
      registries: { 'docker.io': { endpoint: tb.url } },
      config: { tagTtlSeconds: 300, tagTtl: [] },
    })
    const l = await layerOf('library/busybox')
    const res = await mirrorApp({ mirror }).request(`/v2/busybox/blobs/${l.digest}`)
    expect(sha256(await bodyBytes(res))).toBe(l.digest)
    await eventually(async () => (await blobs.stat(l.digest)) !== null)
    // What rmi and prune do with a blob no record holds.
    const images = createImageStore(driver)
    expect(await exclusive(images, () => releaseBlobs({ images, blobs }, [l.digest]))).toBe(0)
    expect(await blobs.stat(l.digest)).not.toBeNull()
    linked()
    await eventually(async () => (await driver.stat(mirrorLayerKey({ domain: 'docker.io', path: 'library/busybox' }, l.digest))) !== null)
    expect(await exclusive(images, () => releaseBlobs({ images, blobs }, [l.digest]))).toBe(0)
    expect(await blobs.stat(l.digest)).not.toBeNull()
  }, 60_000)
})

describe('upstream choice', () => {
  test('?ns= and the path-prefix form pick a configured registry; others are refused', async () => {
    const p = await countingProxy(tb.url)
    const hubMirror = await countingProxy(tb.url)
    const e = await startInProcess({
      registries: {
        'docker.io': { endpoint: p.url, mirrors: [hubMirror.url] },
        'registry.example': { endpoint: tb.url },
      },
    })
    try {
      const up = await upstreamManifest('library/busybox', 'latest')
      for (const path of [
        '/v2/library/busybox/manifests/latest?ns=registry.example',
        '/v2/registry.example/library/busybox/manifests/latest',
      ]) {
        const res = await get(e, path)
        expect([path, res.status]).toEqual([path, 200])
        expect(await bodyBytes(res)).toEqual(up.bytes)
      }
      expect(p.seen).toEqual([])
      // docker.io, spelt three ways, is the configured endpoint, never its pull mirrors.
      for (const path of [
        '/v2/busybox/manifests/latest',
        '/v2/library/busybox/manifests/latest?ns=docker.io',
        '/v2/docker.io/library/busybox/manifests/latest',
      ]) {
        expect((await get(e, path)).status).toBe(200)
      }
      expect(p.count('GET', '/v2/library/busybox/manifests/latest')).toBe(1)
      expect(hubMirror.seen).toEqual([])
      for (const path of [
        '/v2/library/busybox/manifests/latest?ns=elsewhere.example',
        '/v2/elsewhere.example/library/busybox/manifests/latest',
        `/v2/127.0.0.1:${tb.port}/library/busybox/manifests/latest`,
      ]) {
        const res = await get(e, path)
        expect([path, res.status]).toEqual([path, 403])
        expect((await errorOf(res)).code).toBe('DENIED')
      }
    } finally {
      await e.stop()
      await p.stop()
      await hubMirror.stop()
    }
  }, 60_000)
})

describe('tags: TTL, revalidation, stale answers, admin', () => {
  const TOKEN = 'an-admin-token-for-tests'
  let p: CountingProxy
  let e: InProcess
  beforeAll(async () => {
    p = await countingProxy(tb.url)
    e = await startInProcess({
      registries: { 'docker.io': { endpoint: p.url } },
      config: {
        mirror: { tagTtlSeconds: 300, tagTtl: [{ pattern: 'library/layered', seconds: 0 }] },
        adminToken: TOKEN,
      },
    })
  })
  afterAll(async () => {
    await e?.stop()
    await p?.stop()
  })

  test('within its TTL a tag is served without asking upstream', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await get(e, '/v2/busybox/manifests/latest')).status).toBe(200)
    }
    expect(p.count('GET', '/library/busybox/manifests/latest')).toBe(1)
    expect(p.count('HEAD', '/library/busybox/manifests/latest')).toBe(0)
  }, 60_000)

  test('past its TTL a tag is revalidated with a HEAD, not fetched again', async () => {
    const up = await upstreamManifest('library/layered', 'latest')
    for (let i = 0; i < 3; i++) {
      const res = await get(e, '/v2/layered/manifests/latest')
      expect(await bodyBytes(res)).toEqual(up.bytes)
      expect(res.headers.get('warning')).toBeNull()
    }
    expect(p.count('GET', '/library/layered/manifests/latest')).toBe(1)
    expect(p.count('HEAD', '/library/layered/manifests/latest')).toBe(2)
  }, 60_000)

  test('when upstream is down, answers 503 or 429, or drops the connection, the tag is served stale', async () => {
    const up = await upstreamManifest('library/layered', 'latest')
    await get(e, '/v2/layered/tags/list').then((r) => r.arrayBuffer())
    try {
      for (const mode of ['unavailable', 'ratelimited', 'reset'] as const) {
        p.mode = mode
        const res = await get(e, '/v2/layered/manifests/latest')
        expect([mode, res.status]).toEqual([mode, 200])
        expect(await bodyBytes(res)).toEqual(up.bytes)
        expect(res.headers.get('docker-content-digest')).toBe(up.digest)
        expect(res.headers.get('warning')).toContain('110 - "Response is Stale"')
        const head = await get(e, '/v2/layered/manifests/latest', { method: 'HEAD' })
        expect(head.headers.get('warning')).toContain('110 - "Response is Stale"')
      }
      p.mode = 'unavailable'
      const tags = await get(e, '/v2/layered/tags/list')
      expect(tags.status).toBe(200)
      expect(((await tags.json()) as any).tags).toEqual(['latest'])
      expect(tags.headers.get('warning')).toContain('110 - "Response is Stale"')
    } finally {
      p.mode = 'forward'
    }
    const fresh = await get(e, '/v2/layered/manifests/latest')
    expect(fresh.headers.get('warning')).toBeNull()
  }, 60_000)

  test('the admin API refreshes and purges tags, behind the admin token', async () => {
    const refresh = (token?: string) =>
      fetch(`${e.url}/admin/tags/refresh?ref=busybox:latest`, {
        method: 'POST',
        headers: token ? { authorization: `Bearer ${token}` } : {},
      })
    expect((await refresh()).status).toBe(401)
    expect((await refresh('wrong')).status).toBe(401)
    const heads = p.count('HEAD', '/library/busybox/manifests/latest')
    const res = await refresh(TOKEN)
    expect(res.status).toBe(200)
    const up = await upstreamManifest('library/busybox', 'latest')
    const repository = 'docker.io/library/busybox'
    expect(await res.json()).toMatchObject({ repository, tag: 'latest', digest: up.digest })
    expect(p.count('HEAD', '/library/busybox/manifests/latest')).toBe(heads + 1)

    const purge = () =>
      fetch(`${e.url}/admin/tags?ref=docker.io/library/busybox:latest`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${TOKEN}` },
      })
    expect(await (await purge()).json()).toEqual({ repository, tag: 'latest', deleted: true })
    expect((await purge()).status).toBe(404)
    const gets = p.count('GET', '/library/busybox/manifests/latest')
    expect((await get(e, '/v2/busybox/manifests/latest')).status).toBe(200)
    expect(p.count('GET', '/library/busybox/manifests/latest')).toBe(gets + 1)
  }, 60_000)

  test('without an adminToken in the config the admin API does not exist', async () => {
    const res = await fetch(`${ep.url}/admin/tags/refresh?ref=busybox`, { method: 'POST' })
    expect(res.status).toBe(404)
  })
})

describe('the observer seam (metrics, eviction)', () => {
  test('every request, body and fill is reported at one place', async () => {
    const events: MirrorEvent[] = []
    const observe = (e: MirrorEvent) => void events.push(e)
    const driver = createMemoryDriver()
    const registries = { 'docker.io': { endpoint: tb.url } }
    const mirror = createMirror({
      driver,
      blobs: createBlobStore(driver),
      fills: new Fills(driver, { observe: (event) => observe({ type: 'fill', event }) }),
      registry: createRegistryClient({ fetch: (r) => fetch(r) }),
      registries,
      config: { tagTtlSeconds: 300, tagTtl: [] },
      observe,
    })
    const app = mirrorApp({ mirror })
    const call = async (path: string) => (await app.request(path)).arrayBuffer()
    const l = await layerOf('library/busybox')
    await call('/v2/busybox/manifests/latest')
    await call('/v2/busybox/manifests/latest')
    await call(`/v2/busybox/blobs/${l.digest}`)
    await call(`/v2/busybox/blobs/${l.digest}`)
    await call('/v2/busybox/manifests/nope')
    const requests = events.flatMap((e) => (e.type === 'request' ? [[e.kind, e.outcome, e.status]] : []))
    expect(requests).toEqual([
      ['manifest', 'miss', 200],
      ['manifest', 'hit', 200],
      ['blob', 'miss', 200],
      ['blob', 'hit', 200],
      ['manifest', undefined, 404],
    ])
    const served = events.filter((e) => e.type === 'served' && e.kind === 'blob')
    expect(served.map((e) => (e as { bytes: number }).bytes)).toEqual([l.size, l.size])
    expect(events.filter((e) => e.type === 'serving')).toHaveLength(2)
    const fills = events.flatMap((e) => (e.type === 'fill' ? [e.event.type] : []))
    expect(fills).toEqual(['start', 'end'])
    expect(events.some((e) => e.type === 'upstream-error' && e.status === 404)).toBe(true)
  }, 60_000)
})
