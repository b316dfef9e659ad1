/**
 * /metrics against the token-mode testbed: the counters move as requests, hits, misses,
 * fills and upstream failures happen, for /v2 and for pulls through /images/create alike.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Digest } from '../src/oci/digest.ts'
import { blobKey } from '../src/storage/keys.ts'
import { eventually } from './support/eventually.ts'
import { countingProxy, type CountingProxy } from './support/counting-proxy.ts'
import { startInProcess, type InProcess } from './support/edgepull.ts'
import { readMessages } from './support/ndjson.ts'
import { anonymousToken, testbed, type Testbed } from './support/testbed.ts'
import { MANIFEST_ACCEPT as ACCEPT } from '../src/oci/media-types.ts'

let tt: Testbed
let proxy: CountingProxy
let ep: InProcess

beforeAll(async () => {
  tt = await testbed('token')
  proxy = await countingProxy(tt.url)
  ep = await startInProcess({ registries: { 'docker.io': { endpoint: proxy.url } }, store: 'fs' })
}, 120_000)
afterAll(async () => {
  await ep?.stop()
  await proxy?.stop()
})

/** The exposition, parsed: `name{a="b",…}` → value. */
async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(`${ep.url}/metrics`)
  expect(res.status).toBe(200)
  const out = new Map<string, number>()
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    out.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return out
}

/** One sample's value; labels are given in any order, all of them. */
function value(samples: Map<string, number>, name: string, labels: Record<string, string> = {}) {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')
  for (const [key, v] of samples) {
    const brace = key.indexOf('{')
    const n = brace < 0 ? key : key.slice(0, brace)
    const set = brace < 0 ? '' : key.slice(brace + 1, -1).split(',').sort().join(',')
    if (n === name && set === want) return v
  }
  return 0
}

const get = (path: string) => fetch(`${ep.url}${path}`, { headers: { accept: ACCEPT } })

async function upstreamManifest(repo: string) {
  const token = await anonymousToken(tt, repo)
  const res = await fetch(`${tt.url}/v2/${repo}/manifests/latest`, {
    headers: { accept: ACCEPT, authorization: `Bearer ${token}` },
  })
  const bytes = new Uint8Array(await res.arrayBuffer())
  const json = JSON.parse(new TextDecoder().decode(bytes)) as {
    config: { digest: Digest; size: number }
    layers: Array<{ digest: Digest; size: number }>
  }
  return { bytes, json }
}

describe('/metrics', () => {
  test('is Prometheus text outside the Engine API prefix', async () => {
    const res = await fetch(`${ep.url}/metrics`)
    expect(res.headers.get('content-type')).toStartWith('text/plain; version=0.0.4')
    const text = await res.text()
    expect(text).toContain('# TYPE edgepull_mirror_requests_total counter\n')
    expect(text).toContain('# TYPE edgepull_fills_in_flight gauge\n')
    expect(text).toContain('edgepull_fills_in_flight 0\n')
    expect((await fetch(`${ep.url}/v1.41/metrics`)).status).toBe(404)
  })

  test('a miss, then a hit: requests, hits, misses, bytes served and fetched', async () => {
    const up = await upstreamManifest('library/busybox')
    const layer = up.json.layers[0]!
    const before = await scrape()
    for (let i = 0; i < 2; i++) {
      expect((await (await get('/v2/busybox/manifests/latest')).arrayBuffer()).byteLength).toBe(
        up.bytes.byteLength
      )
      const blob = await get(`/v2/busybox/blobs/${layer.digest}`)
      expect((await blob.arrayBuffer()).byteLength).toBe(layer.size)
      // The client has every byte once they are verified; the commit may follow a moment later.
      await eventually(async () => (await ep.driver.stat(blobKey(layer.digest))) !== null)
    }
    const after = await scrape()
    const moved = (name: string, labels: Record<string, string> = {}) =>
      value(after, name, labels) - value(before, name, labels)
    for (const kind of ['manifest', 'blob']) {
      for (const outcome of ['miss', 'hit']) {
        const labels = { kind, method: 'GET', outcome, status: '200' }
        const n = moved('edgepull_mirror_requests_total', labels)
        expect([kind, outcome, n]).toEqual([kind, outcome, 1])
      }
      expect(moved('edgepull_mirror_cache_hits_total', { kind })).toBe(1)
      expect(moved('edgepull_mirror_cache_misses_total', { kind })).toBe(1)
    }
    const manifestBytes = up.bytes.byteLength
    const servedManifests = moved('edgepull_mirror_served_bytes_total', { kind: 'manifest' })
    expect(servedManifests).toBe(2 * manifestBytes)
    expect(moved('edgepull_mirror_served_bytes_total', { kind: 'blob' })).toBe(2 * layer.size)
    // Fetched once each: the hit crossed no network.
    expect(moved('edgepull_upstream_fetched_bytes_total', { kind: 'manifest' })).toBe(manifestBytes)
    expect(moved('edgepull_upstream_fetched_bytes_total', { kind: 'blob' })).toBe(layer.size)
    expect(moved('edgepull_fills_total', { result: 'stored' })).toBe(1)
    expect(value(after, 'edgepull_fills_in_flight')).toBe(0)
    expect(value(after, 'edgepull_mirror_serving')).toBe(0)
  }, 60_000)

  test('failures: unknown manifests, refused callers, upstream errors', async () => {
    const before = await scrape()
    await (await get('/v2/busybox/manifests/nope')).arrayBuffer()
    await (await get('/v2/private/busybox/manifests/latest')).arrayBuffer()
    const after = await scrape()
    const moved = (name: string, labels: Record<string, string>) =>
      value(after, name, labels) - value(before, name, labels)
    const labels = { kind: 'manifest', method: 'GET', outcome: 'error' }
    expect(moved('edgepull_mirror_requests_total', { ...labels, status: '404' })).toBe(1)
    expect(moved('edgepull_mirror_requests_total', { ...labels, status: '401' })).toBe(1)
    const unknown = { status: '404', code: 'MANIFEST_UNKNOWN' }
    const notFound = moved('edgepull_upstream_errors_total', unknown)
    expect(notFound).toBe(1)
    // distribution says DENIED with its 401 when the token grants nothing.
    expect(moved('edgepull_upstream_errors_total', { status: '401', code: 'DENIED' })).toBe(1)
  }, 60_000)

  test('tokens issued are counted, anonymous or not', async () => {
    const before = await scrape()
    await (await get('/v2/token')).arrayBuffer()
    const withCreds = await fetch(`${ep.url}/v2/token`, {
      headers: { authorization: `Basic ${btoa('alice:secret')}` },
    })
    await withCreds.arrayBuffer()
    const after = await scrape()
    for (const kind of ['anonymous', 'credentials']) {
      const n = value(after, 'edgepull_mirror_tokens_issued_total', { kind })
      expect(n - value(before, 'edgepull_mirror_tokens_issued_total', { kind })).toBe(1)
    }
  })

  test('a fill in flight is a gauge; pulls through /images/create count as fetched', async () => {
    const big = (await upstreamManifest('library/big')).json
    const layered = (await upstreamManifest('library/layered')).json
    // layered shares busybox's layer, stored by now: the pull does not fetch it again.
    const missing = []
    for (const d of [layered.config, ...layered.layers]) {
      if (!(await ep.driver.stat(blobKey(d.digest)))) missing.push(d)
    }
    expect(missing.length).toBeGreaterThan(1)
    const before = await scrape()
    proxy.bytesPerSecond = 32 << 20 // two seconds for the 64 MiB layer
    try {
      const res = await get(`/v2/big/blobs/${big.layers[0]!.digest}`)
      const reader = res.body!.getReader()
      await reader.read()
      const during = await scrape()
      expect(value(during, 'edgepull_fills_in_flight')).toBe(1)
      expect(value(during, 'edgepull_mirror_serving')).toBe(1)
      for (;;) if ((await reader.read()).done) break
    } finally {
      proxy.bytesPerSecond = 0
    }
    const pull = await fetch(`${ep.url}/v1.45/images/create?fromImage=layered&tag=latest`, {
      method: 'POST',
    })
    const messages = await readMessages(pull)
    expect(messages.filter((m) => m.errorDetail)).toEqual([])
    const after = await scrape()
    expect(value(after, 'edgepull_fills_in_flight')).toBe(0)
    expect(value(after, 'edgepull_mirror_serving')).toBe(0)
    const pulled = missing.reduce((n, d) => n + d.size, 0)
    const fetched = (s: Map<string, number>) =>
      value(s, 'edgepull_upstream_fetched_bytes_total', { kind: 'blob' })
    expect(fetched(after) - fetched(before)).toBe(big.layers[0]!.size + pulled)
    // The mirror's requests moved by one (the big blob); the pull is no /v2 request.
    const miss = { kind: 'blob', method: 'GET', outcome: 'miss', status: '200' }
    const requests = (s: Map<string, number>) => value(s, 'edgepull_mirror_requests_total', miss)
    expect(requests(after) - requests(before)).toBe(1)
  }, 60_000)
})
