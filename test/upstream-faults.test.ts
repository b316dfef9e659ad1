/**
 * Upstream faults through edgepull's two faces, with the fault proxy (support/counting-proxy.ts
 * and faults.ts) in front of the real testbed registry: a connection reset mid-blob, a flipped
 * byte, 503 and 429 with Retry-After, an upstream that stalls before its headers or mid-body,
 * and one that is down. Each through the /v2 mirror and through Engine API pulls (the docker
 * CLI and skopeo where a real client shows it best).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256, type Digest } from '../src/oci/digest.ts'
import { blobKey, mirrorLayerKey } from '../src/storage/keys.ts'
import { createImageStore } from '../src/storage/images.ts'
import { countingProxy, type CountingProxy } from './support/counting-proxy.ts'
import { docker } from './support/docker-cli.ts'
import { startInProcess, type InProcess } from './support/edgepull.ts'
import { eventually } from './support/eventually.ts'
import type { Fault } from './support/faults.ts'
import { lines, readMessages } from './support/ndjson.ts'
import { testbed, type Testbed } from './support/testbed.ts'
import { MANIFEST_ACCEPT as ACCEPT } from '../src/oci/media-types.ts'

// For the stall tests: short, so stalls cost seconds (a loopback registry answers in
// milliseconds). The other tests keep the defaults, so a busy machine cannot trip them.
const SHORT_TIMEOUTS = { upstream: { headersTimeoutSeconds: 1, idleTimeoutSeconds: 1 } }
// Five tries of a one-second timeout, with backoffs between them, and slack for a busy machine.
const STALL_BOUND_MS = 20_000

let tb: Testbed
let proxy: CountingProxy
const started: InProcess[] = []

beforeAll(async () => {
  tb = await testbed('open')
  proxy = await countingProxy(tb.url)
}, 120_000)
afterEach(async () => {
  proxy.faults = []
  proxy.seen.length = 0
  proxy.ranges.length = 0
  await proxy.up() // after a test that took it down
  for (const e of started.splice(0)) await e.stop()
})
afterAll(() => proxy?.stop())

/** A fresh edgepull (fs store) whose docker.io is the proxy; `config` adds to the file. */
async function edgepull(config: Record<string, unknown> = {}): Promise<InProcess> {
  const e = await startInProcess({
    registries: { 'docker.io': { endpoint: proxy.url } },
    store: 'fs',
    config,
  })
  started.push(e)
  return e
}

interface Layer {
  digest: Digest
  size: number
}

/** Layer `i` of `repo:latest`, as the upstream's manifest describes it. */
async function layerOf(repo: string, i = 0): Promise<Layer> {
  const m = await fetch(`${tb.url}/v2/${repo}/manifests/latest`, { headers: { accept: ACCEPT } })
  return ((await m.json()) as { layers: Layer[] }).layers[i]!
}

/** Makes `fault` strike GETs of `digest`'s blob, `times` times (default: every time). */
const onBlob = (digest: string, fault: Fault, times?: number) =>
  proxy.inject({ path: new RegExp(`/blobs/${digest}$`), fault, times })

const blobPath = (repo: string, digest: string) => `/v2/${repo}/blobs/${digest}`

/**
 * The body's bytes, or the error getting them (a response cut short must not end cleanly; one
 * cut before its headers went out fails the fetch itself).
 */
async function readOutcome(
  response: Response | Promise<Response>
): Promise<{ status?: number; bytes?: Uint8Array; error?: unknown }> {
  try {
    const res = await response
    return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) }
  } catch (error) {
    return { error }
  }
}

/** Files left in the fs store's temp area (none once a failed write has cleaned up). */
function tempFiles(e: InProcess): string[] {
  const tmp = join(e.dir!, '.tmp')
  if (!existsSync(tmp)) return []
  const names = readdirSync(tmp, { recursive: true }) as string[]
  return names.filter((n) => statSync(join(tmp, n), { throwIfNoEntry: false })?.isFile())
}

/**
 * Nothing of `digest` in the store: no blob, and soon no temp file (a failed pull's other
 * layers may still be removing theirs when its stream has ended).
 */
async function assertNothingStored(e: InProcess, digest: Digest): Promise<void> {
  expect(await e.driver.stat(blobKey(digest))).toBeNull()
  await eventually(async () => tempFiles(e).length === 0, 5_000)
}

/** The server still answers, on both faces. */
async function assertServing(e: InProcess): Promise<void> {
  expect((await fetch(`${e.url}/_ping`)).status).toBe(200)
  expect([200, 401]).toContain((await fetch(`${e.url}/v2/`)).status)
}

async function ociError(res: Response) {
  expect(res.headers.get('content-type')).toStartWith('application/json')
  return ((await res.json()) as { errors: Array<{ code: string; message: string }> }).errors[0]!
}

const pull = (e: InProcess, image: string) =>
  fetch(`${e.url}/images/create?fromImage=docker.io/library/${image}&tag=latest`, { method: 'POST' })

describe('a connection reset mid-blob', () => {
  test('the mirror resumes with Range and serves exactly the right bytes', async () => {
    const e = await edgepull()
    const layer = await layerOf('library/big')
    const at = 5 * 1024 * 1024
    const rule = onBlob(layer.digest, { kind: 'reset', at }, 1)
    const res = await fetch(e.url + blobPath('big', layer.digest))
    expect(res.status).toBe(200)
    const got = new Uint8Array(await res.arrayBuffer())
    expect(got.byteLength).toBe(layer.size)
    expect(sha256(got)).toBe(layer.digest)
    expect(rule.hits).toBe(1)
    const resumed = proxy.ranges.filter((r) => r.path.endsWith(layer.digest))
    expect(resumed).toHaveLength(1)
    const from = Number(/^bytes=(\d+)-$/.exec(resumed[0]!.range)![1])
    expect(from).toBeGreaterThan(0)
    expect(from).toBeLessThanOrEqual(at)
    await eventually(async () => (await e.driver.stat(blobKey(layer.digest)))?.size === layer.size)
  }, 60_000)

  test('a docker pull through the Engine API resumes too and completes', async () => {
    const e = await edgepull()
    const layer = await layerOf('library/big')
    onBlob(layer.digest, { kind: 'reset', at: 3 * 1024 * 1024 }, 1)
    const before = proxy.ranges.length
    const r = await docker(e.host, ['pull', 'big'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Status: Downloaded newer image for big:latest')
    expect(proxy.ranges.slice(before).some((x) => x.path.endsWith(layer.digest))).toBe(true)
    expect((await e.driver.stat(blobKey(layer.digest)))?.size).toBe(layer.size)
  }, 60_000)
})

describe('a flipped byte', () => {
  test('the mirror aborts the response, stores nothing, and the next request is right', async () => {
    const e = await edgepull()
    const layer = await layerOf('library/big')
    const path = blobPath('big', layer.digest)
    onBlob(layer.digest, { kind: 'flip', at: 1024 * 1024 }, 1)
    const res = await fetch(e.url + path)
    expect(res.status).toBe(200)
    // Aborted, never a clean end: the last bytes are held back until the digest is verified,
    // and the mismatch drops the connection before they go.
    expect((await readOutcome(res)).error).toBeDefined()
    await assertNothingStored(e, layer.digest)
    await assertServing(e)

    const gets = proxy.count('GET', `/blobs/${layer.digest}`)
    const again = await fetch(e.url + path)
    expect(again.status).toBe(200)
    const got = new Uint8Array(await again.arrayBuffer())
    expect(sha256(got)).toBe(layer.digest)
    expect(proxy.count('GET', `/blobs/${layer.digest}`)).toBe(gets + 1)
    await eventually(async () => (await e.driver.stat(blobKey(layer.digest)))?.size === layer.size)
  }, 60_000)

  test('with upstream down afterwards, the cache has nothing to serve for it', async () => {
    const e = await edgepull()
    const layer = await layerOf('library/layered', 1)
    const path = blobPath('layered', layer.digest)
    onBlob(layer.digest, { kind: 'flip', at: Math.floor(layer.size / 2) })
    // A blob this small may fail before or after its headers went out: never a clean 200.
    const res = await readOutcome(fetch(e.url + path))
    if (!res.error) expect(res.status).toBe(502)
    await proxy.down()
    // Not from the cache: a HEAD has to ask upstream, which is down.
    const head = await fetch(e.url + path, { method: 'HEAD' })
    expect(head.status).toBe(502)
    await assertNothingStored(e, layer.digest)
  }, 60_000)

  test('an Engine API pull ends with an errorDetail, stores no image, and a later pull works', async () => {
    const e = await edgepull()
    const layer = await layerOf('library/layered', 1)
    onBlob(layer.digest, { kind: 'flip', at: 0 })
    const ms = await readMessages(await pull(e, 'layered'))
    const last = ms.at(-1)!
    expect(last.errorDetail?.message).toContain(layer.digest)
    expect(last.error).toBe(last.errorDetail!.message)
    await assertNothingStored(e, layer.digest)
    expect(await createImageStore(e.driver).getTag('docker.io/library/layered:latest')).toBeNull()

    proxy.faults = []
    const ok = await readMessages(await pull(e, 'layered'))
    expect(ok.filter((m) => m.errorDetail)).toEqual([])
    expect(lines(ok).at(-1)).toBe('Status: Downloaded newer image for layered:latest')
  }, 60_000)
})

describe('503 and 429 with Retry-After', () => {
  test('a short Retry-After is waited out and the blob arrives', async () => {
    const e = await edgepull()
    const layer = await layerOf('library/busybox')
    const rule = onBlob(layer.digest, { kind: 'status', status: 503, retryAfter: 1 }, 2)
    const t0 = Date.now()
    const res = await fetch(e.url + blobPath('busybox', layer.digest))
    expect(res.status).toBe(200)
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(layer.digest)
    expect(rule.hits).toBe(2)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2_000)
    expect(proxy.count('GET', `/blobs/${layer.digest}`)).toBe(3)
  }, 60_000)

  for (const [status, code, answered] of [
    [429, 'TOOMANYREQUESTS', 429],
    [503, 'UNAVAILABLE', 502],
  ] as const) {
    test(`a ${status} that never ends is retried five times, then the mirror says ${code}`, async () => {
      const e = await edgepull()
      const layer = await layerOf('library/busybox')
      onBlob(layer.digest, { kind: 'status', status, retryAfter: 0 })
      const res = await fetch(e.url + blobPath('busybox', layer.digest))
      expect(res.status).toBe(answered)
      expect((await ociError(res)).code).toBe(code)
      expect(proxy.count('GET', `/blobs/${layer.digest}`)).toBe(5)
      await assertNothingStored(e, layer.digest)
    }, 60_000)
  }

  test('a Retry-After beyond the cap is not waited out: one try, a clear error at once', async () => {
    const e = await edgepull()
    const layer = await layerOf('library/busybox')
    onBlob(layer.digest, { kind: 'status', status: 429, retryAfter: 3600 })
    const t0 = Date.now()
    const res = await fetch(e.url + blobPath('busybox', layer.digest))
    expect(res.status).toBe(429)
    // The mirror's clients are told to wait as long as upstream asked, not to hammer it.
    expect(res.headers.get('retry-after')).toBe('3600')
    expect(Date.now() - t0).toBeLessThan(5_000)
    expect(proxy.count('GET', `/blobs/${layer.digest}`)).toBe(1)
  }, 60_000)

  test('an Engine API pull says toomanyrequests in its stream after bounded retries', async () => {
    const e = await edgepull()
    const layer = await layerOf('library/busybox')
    onBlob(layer.digest, { kind: 'status', status: 429, retryAfter: 0 })
    const ms = await readMessages(await pull(e, 'busybox'))
    expect(ms.at(-1)?.errorDetail?.message).toContain('toomanyrequests')
    expect(proxy.count('GET', `/blobs/${layer.digest}`)).toBe(5)
    await assertNothingStored(e, layer.digest)
  }, 60_000)

  test('an Engine API pull waits out a short Retry-After and completes', async () => {
    const e = await edgepull()
    const layer = await layerOf('library/busybox')
    onBlob(layer.digest, { kind: 'status', status: 503, retryAfter: 1 }, 1)
    const ms = await readMessages(await pull(e, 'busybox'))
    expect(ms.filter((m) => m.errorDetail)).toEqual([])
    expect(lines(ms).at(-1)).toBe('Status: Downloaded newer image for busybox:latest')
  }, 60_000)
})

describe('a stalled upstream', () => {
  test('no response headers: both clients of the fill get an error in bounded time', async () => {
    const e = await edgepull(SHORT_TIMEOUTS)
    const layer = await layerOf('library/busybox')
    onBlob(layer.digest, { kind: 'hang' })
    const path = blobPath('busybox', layer.digest)
    const t0 = Date.now()
    const [a, b] = await Promise.all([fetch(e.url + path), fetch(e.url + path)])
    expect(Date.now() - t0).toBeLessThan(STALL_BOUND_MS)
    for (const res of [a, b]) {
      expect(res.status).toBe(502)
      const err = await ociError(res)
      expect(err.code).toBe('UNAVAILABLE')
      expect(err.message).toContain('timeout awaiting response headers')
    }
    // One fill for both clients: five tries, not ten.
    expect(proxy.count('GET', `/blobs/${layer.digest}`)).toBe(5)
    await assertNothingStored(e, layer.digest)
    await assertServing(e)
  }, 60_000)

  test('a body that stalls mid-way: both clients see it cut short, in bounded time', async () => {
    const e = await edgepull(SHORT_TIMEOUTS)
    const layer = await layerOf('library/big')
    const at = 2 * 1024 * 1024
    onBlob(layer.digest, { kind: 'stall', at })
    const path = blobPath('big', layer.digest)
    const t0 = Date.now()
    const [a, b] = await Promise.all([fetch(e.url + path), fetch(e.url + path)])
    for (const res of [a, b]) expect(res.status).toBe(200)
    const outcomes = await Promise.all([readOutcome(a), readOutcome(b)])
    expect(Date.now() - t0).toBeLessThan(STALL_BOUND_MS)
    for (const o of outcomes) expect(o.error).toBeDefined()
    // The stall was met with resumes from where it stopped.
    const resumes = proxy.ranges.filter((r) => r.path.endsWith(layer.digest))
    expect(resumes.length).toBeGreaterThan(0)
    await assertNothingStored(e, layer.digest)
    await assertServing(e)
  }, 60_000)

  test('an Engine API pull of a stalled layer fails in its stream, in bounded time', async () => {
    const e = await edgepull(SHORT_TIMEOUTS)
    const layer = await layerOf('library/busybox')
    onBlob(layer.digest, { kind: 'stall', at: 0 })
    const t0 = Date.now()
    const ms = await readMessages(await pull(e, 'busybox'))
    expect(Date.now() - t0).toBeLessThan(STALL_BOUND_MS)
    expect(ms.at(-1)?.errorDetail?.message).toContain('i/o timeout')
    await assertNothingStored(e, layer.digest)
    await assertServing(e)
  }, 60_000)
})

describe('an upstream that is down', () => {
  test('a pull says connection refused, in Go words', async () => {
    const e = await edgepull()
    await proxy.down()
    const res = await pull(e, 'busybox')
    // Before the stream starts, so an HTTP error with dockerd's {"message"}.
    expect(res.status).toBe(500)
    expect(res.headers.get('content-type')).toBe('application/json')
    const port = new URL(proxy.url).port
    expect(await res.json()).toEqual({
      message: `Get "${proxy.url}/v2/": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    })
    const r = await docker(e.host, ['pull', 'busybox'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('connect: connection refused')
  }, 60_000)

  test('the mirror serves cached tags stale and cached blobs as ever; the rest is a clear 502', async () => {
    // Every tag is past its TTL at once, so each request asks upstream first.
    const e = await edgepull({ mirror: { tagTtlSeconds: 0 } })
    const manifest = await fetch(`${e.url}/v2/layered/manifests/latest`, { headers: { accept: ACCEPT } })
    const bytes = new Uint8Array(await manifest.arrayBuffer())
    const layer = await layerOf('library/layered')
    const blob = await fetch(e.url + blobPath('layered', layer.digest))
    expect(sha256(new Uint8Array(await blob.arrayBuffer()))).toBe(layer.digest)
    // The response ends when the last byte is verified; the commit and the link follow.
    const link = mirrorLayerKey({ domain: 'docker.io', path: 'library/layered' }, layer.digest)
    await eventually(async () => (await e.driver.stat(link)) !== null)

    await proxy.down()
    const stale = await fetch(`${e.url}/v2/layered/manifests/latest`, { headers: { accept: ACCEPT } })
    expect(stale.status).toBe(200)
    expect(stale.headers.get('warning')).toContain('110 - "Response is Stale"')
    expect(new Uint8Array(await stale.arrayBuffer())).toEqual(bytes)
    const cached = await fetch(e.url + blobPath('layered', layer.digest))
    expect(cached.status).toBe(200)
    expect(sha256(new Uint8Array(await cached.arrayBuffer()))).toBe(layer.digest)

    const cold = await fetch(`${e.url}/v2/busybox/manifests/latest`, { headers: { accept: ACCEPT } })
    expect(cold.status).toBe(502)
    const err = await ociError(cold)
    expect(err.code).toBe('UNAVAILABLE')
    expect(err.message).toContain('connect: connection refused')
  }, 60_000)
})

describe('manifests', () => {
  const manifest = (e: InProcess, ref: string) =>
    fetch(`${e.url}/v2/layered/manifests/${ref}`, { headers: { accept: ACCEPT } })

  test('a flipped byte, by digest or by tag, is refused with 502 and not cached', async () => {
    const e = await edgepull()
    const up = await fetch(`${tb.url}/v2/library/layered/manifests/v1`, { headers: { accept: ACCEPT } })
    const bytes = new Uint8Array(await up.arrayBuffer())
    const digest = up.headers.get('docker-content-digest')!
    // By tag too: the registry declared the digest (Docker-Content-Digest), so a change shows.
    for (const ref of [digest, 'v1']) {
      const path = new RegExp(`/manifests/${ref}$`)
      proxy.inject({ path, fault: { kind: 'flip', at: 10 }, times: 1 })
      const bad = await manifest(e, ref)
      expect([ref, bad.status]).toEqual([ref, 502])
      expect((await ociError(bad)).message).toBe(
        `upstream sent bad content: manifest verification failed for digest ${digest}`
      )
      const good = await manifest(e, ref)
      expect(good.status).toBe(200)
      expect(new Uint8Array(await good.arrayBuffer())).toEqual(bytes)
      expect(good.headers.get('docker-content-digest')).toBe(digest)
      expect(proxy.count('GET', `/manifests/${ref}`)).toBe(2)
    }
  }, 60_000)

  test('a revalidation that gets no headers serves the cached tag stale after the timeout', async () => {
    const e = await edgepull({ ...SHORT_TIMEOUTS, mirror: { tagTtlSeconds: 0 } })
    const bytes = new Uint8Array(await (await manifest(e, 'latest')).arrayBuffer())
    proxy.inject({ path: /\/manifests\/latest$/, method: 'HEAD', fault: { kind: 'hang' } })
    const t0 = Date.now()
    const stale = await manifest(e, 'latest')
    // Revalidation tries once: one headers timeout, then the cached bytes.
    expect(Date.now() - t0).toBeLessThan(5_000)
    expect(stale.status).toBe(200)
    expect(stale.headers.get('warning')).toContain('110 - "Response is Stale"')
    expect(new Uint8Array(await stale.arrayBuffer())).toEqual(bytes)
  }, 60_000)
})

describe('skopeo through the mirror', () => {
  const work = mkdtempSync(join(tmpdir(), 'edgepull-faults-skopeo-'))
  afterAll(() => rmSync(work, { recursive: true, force: true }))

  /** `skopeo copy docker://<edgepull>/layered dir:<out>`: exit code, stderr, the output dir. */
  function skopeoCopy(e: InProcess, out: string) {
    const dir = join(work, out)
    const args = ['copy', '--quiet', '--src-tls-verify=false', '--src-no-creds']
    args.push(`docker://${e.host}/layered:latest`, `dir:${dir}`)
    return new Promise<{ failed: boolean; stderr: string; dir: string }>((resolve) =>
      execFile('skopeo', args, { timeout: 60_000 }, (err, _out, stderr) =>
        resolve({ failed: err !== null, stderr, dir })
      )
    )
  }

  test('a flipped byte fails the copy; a reset is resumed; the copy then has the right bytes', async () => {
    const e = await edgepull()
    const layer = await layerOf('library/layered')
    onBlob(layer.digest, { kind: 'flip', at: 1000 })
    const bad = await skopeoCopy(e, 'flipped')
    expect(bad.failed).toBe(true)
    await assertNothingStored(e, layer.digest)

    proxy.faults = []
    onBlob(layer.digest, { kind: 'reset', at: 100_000 }, 1)
    const ok = await skopeoCopy(e, 'reset')
    expect(ok.stderr).toBe('')
    expect(ok.failed).toBe(false)
    const copied = readFileSync(join(ok.dir, layer.digest.slice('sha256:'.length)))
    expect(sha256(new Uint8Array(copied))).toBe(layer.digest)
    expect(proxy.ranges.some((r) => r.path.endsWith(layer.digest))).toBe(true)
  }, 90_000)
})
