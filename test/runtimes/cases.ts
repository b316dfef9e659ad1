/**
 * The HTTP-level cases every runtime must pass, against the real upstream registry seen
 * through a counting proxy (so "served from the cache" means the upstream was not asked):
 * the docker CLI pulling through /images/create, and the /v2 mirror answering with the
 * upstream's exact bytes, from the cache the second time, to two clients with one upstream
 * GET, to HEAD with Content-Length and to Range requests.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { sha256, type Digest } from '../../src/oci/digest.ts'
import { countingProxy, type CountingProxy } from '../support/counting-proxy.ts'
import { docker, dockerConfig } from '../support/docker-cli.ts'
import { testbed, type Testbed } from '../support/testbed.ts'
import type { RuntimeServer, Starter } from './servers.ts'
import { MANIFEST_ACCEPT as ACCEPT } from '../../src/oci/media-types.ts'

/** What differs between runtimes, said out loud. */
export interface RuntimeTraits {
  /**
   * Whether a streamed body larger than 1 MiB keeps its Content-Length. Bun sends any JS
   * stream chunked (oven-sh/bun#10507); its entry buffers only bodies up to 1 MiB.
   */
  bigBodiesKeepLength: boolean
}

/** What extra cases of one runtime get to work with. */
export interface CaseContext {
  server: RuntimeServer
  proxy: CountingProxy
  tb: Testbed
  /** A /v2 request as registry clients make it (a token fetched on a 401). */
  v2(path: string, init?: RequestInit): Promise<Response>
}

type Layer = { digest: Digest; size: number }

/** Registers the shared cases for the runtime `start` starts. */
export function runtimeCases(
  name: string,
  start: Starter,
  traits: RuntimeTraits,
  extra?: (ctx: () => CaseContext) => void
): void {
  describe(`edgepull on ${name}`, () => {
    let tb: Testbed
    let proxy: CountingProxy
    let server: RuntimeServer
    let token: string | undefined
    const bytes = async (res: Response) => new Uint8Array(await res.arrayBuffer())
    const upstream = (path: string) => fetch(`${tb.url}${path}`, { headers: { accept: ACCEPT } })
    const manifestOf = async (repo: string): Promise<{ layers: Layer[] }> =>
      (await upstream(`/v2/${repo}/manifests/latest`)).json() as Promise<{ layers: Layer[] }>

    /** A /v2 request as registry clients make it: on a 401, fetch a token and retry. */
    async function v2(path: string, init: RequestInit = {}): Promise<Response> {
      const send = () => {
        const headers = new Headers(init.headers)
        headers.set('accept', ACCEPT)
        if (token) headers.set('authorization', `Bearer ${token}`)
        return fetch(`${server.url}${path}`, { ...init, headers })
      }
      const res = await send()
      const challenge = res.headers.get('www-authenticate') ?? ''
      if (res.status !== 401 || !challenge.startsWith('Bearer ')) return res
      await res.body?.cancel()
      const realm = /realm="([^"]+)"/.exec(challenge)![1]!
      const issued = (await (await fetch(realm)).json()) as { token: string }
      token = issued.token
      return send()
    }

    beforeAll(async () => {
      tb = await testbed('open')
      proxy = await countingProxy(tb.url)
      server = await start({ 'docker.io': { endpoint: proxy.url } })
    }, 120_000)
    afterAll(async () => {
      await server?.stop()
      await proxy?.stop()
    }, 30_000)

    test('docker pull through /images/create, then up to date', async () => {
      // The write token, where the server needs one, as the CLI sends it (config.json).
      const token = server.writeToken
      const config = () => dockerConfig({}, token ? { Authorization: `Bearer ${token}` } : undefined)
      if (token) {
        const refused = await docker(server.host, ['pull', 'busybox'])
        expect(refused.code).toBe(1)
        expect(refused.stderr).toContain('a token is required')
      }
      const first = await docker(server.host, ['pull', 'busybox'], config())
      expect(first.stderr).toBe('')
      expect(first.code).toBe(0)
      expect(first.stdout).toContain('latest: Pulling from library/busybox')
      expect(first.stdout).toMatch(/[0-9a-f]{12}: Pull complete/)
      expect(first.stdout).toContain('Status: Downloaded newer image for busybox:latest')
      const again = await docker(server.host, ['pull', 'busybox'], config())
      expect(again.code).toBe(0)
      expect(again.stdout).toContain('Status: Image is up to date for busybox:latest')
      const listed = await docker(server.host, ['image', 'ls', '--format', '{{.Repository}}'])
      expect(listed.stdout.split('\n')).toContain('busybox')
    }, 60_000)

    test('a manifest through /v2 is the upstream bytes, with its digest and length', async () => {
      const up = await upstream('/v2/library/many/manifests/latest')
      const expected = await bytes(up)
      const res = await v2('/v2/library/many/manifests/latest')
      expect(res.status).toBe(200)
      expect(res.headers.get('docker-content-digest')).toBe(up.headers.get('docker-content-digest'))
      expect(res.headers.get('content-type')).toBe(up.headers.get('content-type'))
      expect(res.headers.get('content-length')).toBe(String(expected.byteLength))
      expect(await bytes(res)).toEqual(expected)
    }, 30_000)

    test('a blob: a miss, then a hit the upstream never sees', async () => {
      const layer = (await manifestOf('library/many')).layers[1]!
      const path = `/v2/library/many/blobs/${layer.digest}`
      const expected = await bytes(await upstream(path))
      const before = proxy.count('GET', path)

      const miss = await v2(path)
      expect(miss.status).toBe(200)
      expect(miss.headers.get('content-length')).toBe(String(layer.size))
      expect(await bytes(miss)).toEqual(expected)
      expect(proxy.count('GET', path)).toBe(before + 1)

      const hit = await v2(path)
      expect(hit.status).toBe(200)
      expect(hit.headers.get('docker-content-digest')).toBe(layer.digest)
      expect(await bytes(hit)).toEqual(expected)
      expect(proxy.count('GET', path)).toBe(before + 1)
    }, 30_000)

    test('a 64 MiB blob to two clients at once costs one upstream GET', async () => {
      const layer = (await manifestOf('library/big')).layers[0]!
      const path = `/v2/library/big/blobs/${layer.digest}`
      const one = async (): Promise<[Response, Uint8Array]> => {
        const res = await v2(path)
        return [res, await bytes(res)]
      }
      for (const [res, body] of await Promise.all([one(), one()])) {
        expect(res.status).toBe(200)
        expect(body.byteLength).toBe(layer.size)
        expect(sha256(body)).toBe(layer.digest)
        const length = res.headers.get('content-length')
        expect(length).toBe(traits.bigBodiesKeepLength ? String(layer.size) : null)
      }
      expect(proxy.count('GET', path)).toBe(1)
    }, 60_000)

    test('HEAD on a cached blob: Content-Length, no body, no upstream request', async () => {
      const layer = (await manifestOf('library/many')).layers[1]!
      const path = `/v2/library/many/blobs/${layer.digest}`
      await (await v2(path)).arrayBuffer()
      const seen = proxy.seen.length
      const fds = openFiles(server)
      // Many, because the measured traps need repetition: Bun crashed when a HEAD dropped a
      // body holding a file, and Deno leaked one descriptor per such HEAD.
      for (let i = 0; i < 50; i++) {
        const res = await v2(path, { method: 'HEAD' })
        expect(res.status).toBe(200)
        expect(res.headers.get('content-length')).toBe(String(layer.size))
        expect((await bytes(res)).byteLength).toBe(0)
      }
      expect(proxy.seen.length).toBe(seen)
      expect(server.alive()).toBe(true)
      if (fds !== undefined) expect(openFiles(server)!).toBeLessThan(fds + 10)
    }, 30_000)

    test('Range requests on a cached blob: 206 with the slice, 416 past the end', async () => {
      const layer = (await manifestOf('library/many')).layers[1]!
      const path = `/v2/library/many/blobs/${layer.digest}`
      const whole = await bytes(await upstream(path))
      await (await v2(path)).arrayBuffer()

      const part = await v2(path, { headers: { range: 'bytes=100-199' } })
      expect(part.status).toBe(206)
      expect(part.headers.get('content-range')).toBe(`bytes 100-199/${layer.size}`)
      expect(part.headers.get('content-length')).toBe('100')
      expect(await bytes(part)).toEqual(whole.subarray(100, 200))

      const tail = await v2(path, { headers: { range: 'bytes=-10' } })
      expect(tail.status).toBe(206)
      expect(await bytes(tail)).toEqual(whole.subarray(whole.byteLength - 10))

      const past = await v2(path, { headers: { range: `bytes=${layer.size}-` } })
      expect(past.status).toBe(416)
      expect(past.headers.get('content-range')).toBe(`bytes */${layer.size}`)
      await past.body?.cancel()
    }, 30_000)

    test('the rate limit keys on the client address the runtime reports', async () => {
      const limited = await start({}, { rateLimit: { requestsPerSecond: 0.01, burst: 2 } })
      // curl can pick its source address on loopback; fetch cannot.
      const from = async (source: string) => {
        const args = ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--interface', source]
        const proc = Bun.spawn(['curl', ...args, `${limited.url}/_ping`], { stdout: 'pipe' })
        return Number(await new Response(proc.stdout).text())
      }
      try {
        // The starter's readiness pings came from 127.0.0.1 too: spend what is left.
        const first = [await from('127.0.0.1'), await from('127.0.0.1'), await from('127.0.0.1')]
        expect(first).toContain(429)
        expect(await from('127.0.0.1')).toBe(429)
        expect(await from('127.0.0.2')).toBe(200)
      } finally {
        await limited.stop()
      }
    }, 60_000)

    extra?.(() => ({ server, proxy, tb, v2 }))
  })
}

/** How many files the server process has open, where that can be seen (Linux, own child). */
function openFiles(server: RuntimeServer): number | undefined {
  if (server.pid === undefined) return undefined
  try {
    return readdirSync(`/proc/${server.pid}/fd`).length
  } catch {
    return undefined
  }
}
