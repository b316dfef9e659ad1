/**
 * Hostile input on the /v2 mirror, against edgepull over the real testbed registry: bad
 * names, digests, tags and `ns`, malformed and unsatisfiable Range headers, bad token
 * requests, and (from an in-process fake upstream, since no real registry serves one) a
 * manifest past distribution's 4 MiB cap through the mirror and through an Engine API pull.
 * After each one: the right 4xx in the OCI error format, /_ping answers, and the content
 * mirrored before is served byte for byte.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sha256 } from '../src/oci/digest.ts'
import { startInProcess, type InProcess } from './support/edgepull.ts'
import { testbed, type Testbed } from './support/testbed.ts'

let tb: Testbed
let ep: InProcess
let fake: ReturnType<typeof Bun.serve>
let manifest: Uint8Array<ArrayBuffer>
let layer: { digest: string; bytes: Uint8Array<ArrayBuffer> }

const HUGE = new TextEncoder().encode(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2 },
    layers: [],
    annotations: { pad: 'x'.repeat(4 << 20) },
  })
)
const HUGE_DIGEST = sha256(HUGE)

beforeAll(async () => {
  tb = await testbed('open')
  // A registry serving one manifest larger than distribution accepts (it refuses > 4 MiB).
  fake = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname
      if (path === '/v2/' || path === '/v2') return Response.json({})
      if (path.startsWith('/v2/library/huge/manifests/')) {
        return new Response(req.method === 'HEAD' ? null : HUGE, {
          headers: {
            'content-type': 'application/vnd.oci.image.manifest.v1+json',
            'docker-content-digest': HUGE_DIGEST,
            'content-length': String(HUGE.byteLength),
          },
        })
      }
      return Response.json({ errors: [{ code: 'NAME_UNKNOWN', message: 'unknown' }] }, { status: 404 })
    },
  })
  ep = await startInProcess({
    registries: { 'docker.io': { endpoint: tb.url }, [`127.0.0.1:${fake.port}`]: {} },
  })
  const res = await v2('/library/busybox/manifests/latest')
  manifest = new Uint8Array(await res.arrayBuffer())
  const digest = JSON.parse(new TextDecoder().decode(manifest)).layers[0].digest
  layer = { digest, bytes: new Uint8Array(await (await v2(`/library/busybox/blobs/${digest}`)).arrayBuffer()) }
  expect(sha256(layer.bytes) as string).toBe(digest)
}, 120_000)
afterAll(async () => {
  await ep?.stop()
  fake?.stop(true)
})

const v2 = (path: string, init?: RequestInit) => fetch(`${ep.url}/v2${path}`, init)

/** The OCI error envelope with `status` and, when given, `code`. */
async function expectOci(res: Response, status: number, code?: string): Promise<{ code: string; message: string }> {
  const body = await res.text()
  expect({ status: res.status, body }).toMatchObject({ status })
  expect(res.headers.get('content-type')).toStartWith('application/json')
  const json = JSON.parse(body) as { errors: { code: string; message: string }[] }
  expect(json.errors).toHaveLength(1)
  expect(json.errors[0]!.message.length).toBeGreaterThan(0)
  if (code) expect(json.errors[0]!.code).toBe(code)
  return json.errors[0]!
}

/** The server answers, and what it mirrored before is served byte for byte. */
async function intact(): Promise<void> {
  expect(await (await fetch(`${ep.url}/_ping`)).text()).toBe('OK')
  expect(new Uint8Array(await (await v2('/library/busybox/manifests/latest')).arrayBuffer())).toEqual(manifest)
  const blob = new Uint8Array(await (await v2(`/library/busybox/blobs/${layer.digest}`)).arrayBuffer())
  expect(sha256(blob) as string).toBe(layer.digest)
}

describe('names, digests, tags and ns', () => {
  test('invalid repository names are 400 NAME_INVALID', async () => {
    for (const name of ['library/UPPER', 'a'.repeat(300), 'bad%01name', 'bad%00name', 'a/.hidden/b', 'a/b..c', 'a//b', '-lead']) {
      for (const kind of ['manifests/latest', `blobs/${layer.digest}`, 'tags/list']) {
        await expectOci(await v2(`/${name}/${kind}`), 400, 'NAME_INVALID')
      }
    }
    // As docker reads names, an upper-case first component is a registry host: not ours.
    await expectOci(await v2('/UPPER/case/manifests/latest'), 403, 'DENIED')
    await intact()
  })

  test('invalid digests are 400 DIGEST_INVALID; invalid tags are unknown manifests', async () => {
    for (const d of ['sha256:short', `sha256:${'G'.repeat(64)}`, 'md5:abc', 'sha256:', `sha512:${'0'.repeat(64)}`]) {
      await expectOci(await v2(`/library/busybox/blobs/${d}`), 400, 'DIGEST_INVALID')
      await expectOci(await v2(`/library/busybox/manifests/${d}`), 400, 'DIGEST_INVALID')
    }
    for (const tag of ['%00', 'x'.repeat(200), '-lead', 'a%0Ab']) {
      await expectOci(await v2(`/library/busybox/manifests/${tag}`), 404, 'MANIFEST_UNKNOWN')
    }
    await intact()
  })

  test('ns naming no configured registry is refused; tag list parameters out of range are ignored', async () => {
    await expectOci(await v2('/library/busybox/manifests/latest?ns=evil.example'), 403, 'DENIED')
    await expectOci(await v2('/library/busybox/manifests/latest?ns=%00'), 400)
    for (const q of ['n=-1', 'n=abc', 'n=99999999999999999999', 'n=1&n=2', 'last=%00']) {
      const res = await v2(`/library/busybox/tags/list?${q}`)
      expect(res.status).toBe(200)
      expect(((await res.json()) as { name: string }).name).toBe('library/busybox')
    }
    await intact()
  })

  test('token requests: bad grants and oversized forms are 400, not crashes', async () => {
    const form = (body: string) =>
      v2('/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
    for (const body of ['', 'grant_type=nope', 'grant_type=password', `grant_type=password&username=${'u'.repeat(20_000)}`, '%%%']) {
      const res = await form(body)
      expect(res.status).toBe(400)
      expect(((await res.json()) as { error: string }).error).toMatch(/^invalid_request|unsupported_grant_type$/)
    }
    const garbage = await v2('/token', { headers: { authorization: 'Basic !!!' } })
    expect([200, 400, 401]).toContain(garbage.status)
    await garbage.body?.cancel()
    await intact()
  })
})

describe('Range', () => {
  const ranged = (range: string) => v2(`/library/busybox/blobs/${layer.digest}`, { headers: { range } })

  test('beyond the size, malformed, or start after end: 416 RANGE_INVALID with bytes */size', async () => {
    const size = layer.bytes.byteLength
    for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, 'bytes=5-1', 'bytes=a-b', 'bytes=-', 'bytes=', 'bytes=0-1,x', 'bytes=99999999999999999999-']) {
      const res = await ranged(range)
      expect(res.headers.get('content-range')).toBe(`bytes */${size}`)
      await expectOci(res, 416, 'RANGE_INVALID')
    }
    await intact()
  })

  test('other units and several ranges are ignored: the whole blob, byte for byte', async () => {
    for (const range of ['items=0-1', 'garbage', 'bytes=0-1,5-6']) {
      const res = await ranged(range)
      expect(res.status).toBe(200)
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(layer.bytes)
    }
    const one = await ranged('bytes=10-19')
    expect(one.status).toBe(206)
    expect(new Uint8Array(await one.arrayBuffer())).toEqual(layer.bytes.subarray(10, 20))
    await intact()
  })
})

describe('a manifest past 4 MiB upstream', () => {
  test('the mirror refuses it with an OCI error and stores nothing', async () => {
    const host = `127.0.0.1:${fake.port}`
    for (const ref of ['latest', HUGE_DIGEST]) {
      const err = await expectOci(await v2(`/${host}/library/huge/manifests/${ref}`), 502)
      expect(err.message).toContain('manifest too large: more than 4194304 bytes')
    }
    expect(await stored(HUGE_DIGEST)).toBe(false)
    await intact()
  })

  test('an Engine API pull refuses it with a clear error and stores nothing', async () => {
    const host = `127.0.0.1:${fake.port}`
    const res = await fetch(`${ep.url}/v1.50/images/create?fromImage=${host}/library/huge&tag=latest`, { method: 'POST' })
    const text = await res.text()
    expect(text).toContain('manifest too large: more than 4194304 bytes')
    if (res.status !== 200) expect(JSON.parse(text)).toEqual({ message: expect.any(String) })
    expect(await stored(HUGE_DIGEST)).toBe(false)
    await intact()
  })
})

async function stored(digest: string): Promise<boolean> {
  for await (const k of ep.driver.list('')) if (k.endsWith(digest.slice(7))) return true
  return false
}
