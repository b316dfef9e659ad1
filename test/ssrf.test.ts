/**
 * The network guard (no SSRF) against the real testbed registry, seen through an in-process
 * registry in front of it that redirects blobs, sends token realms and serves import URLs
 * pointing wherever a test says. edgepull is configured for that front registry only, on
 * 127.0.0.3; the host it points at listens on 127.0.0.2 (Linux routes all of 127/8 to lo)
 * and counts what reaches it. The testbed itself (127.0.0.1) is not configured either, so
 * names that resolve to 127.0.0.1 are private hosts edgepull must refuse too.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { hostname } from 'node:os'
import { resolveAll } from '../src/runtime/dns.ts'
import { startInProcess, startNode, type InProcess, type Running } from './support/edgepull.ts'
import { lines, readMessages } from './support/ndjson.ts'
import { testbed, type Testbed } from './support/testbed.ts'

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'

let tb: Testbed
/** Where the front registry sends blob requests (a URL prefix), realms and imports. */
const aim: { blobs?: string; realm?: string } = {}
let front: ReturnType<typeof Bun.serve>
let target: ReturnType<typeof Bun.serve>
/** Requests that reached the unconfigured host. */
let reached: string[] = []
let frontHost: string
let targetPort: number
let config: { digest: string; layer: string }

/** Passes a request on to the testbed, as a registry's storage would answer it. */
async function fromTestbed(req: Request, url: URL): Promise<Response> {
  const accept = req.headers.get('accept')
  const res = await fetch(`${tb.url}${url.pathname}${url.search}`, {
    method: req.method,
    headers: accept ? { accept } : {},
  })
  return new Response(req.method === 'HEAD' ? null : res.body, { status: res.status, headers: res.headers })
}

beforeAll(async () => {
  tb = await testbed('open')
  target = Bun.serve({
    hostname: '127.0.0.2',
    port: 0,
    fetch(req) {
      const url = new URL(req.url)
      reached.push(`${req.method} ${url.pathname}`)
      return fromTestbed(req, url)
    },
  })
  targetPort = target.port!
  front = Bun.serve({
    hostname: '127.0.0.3',
    port: 0,
    fetch(req) {
      const url = new URL(req.url)
      if (aim.realm && url.pathname === '/v2/') {
        const challenge = `Bearer realm="${aim.realm}",service="front"`
        return new Response(null, { status: 401, headers: { 'www-authenticate': challenge } })
      }
      if (aim.blobs && url.pathname.includes('/blobs/sha256:')) {
        return new Response(null, { status: 307, headers: { location: `${aim.blobs}${url.pathname}` } })
      }
      return fromTestbed(req, url)
    },
  })
  frontHost = `127.0.0.3:${front.port}`
  const manifest = (await (
    await fetch(`${tb.url}/v2/library/busybox/manifests/latest`, { headers: { accept: ACCEPT } })
  ).json()) as { config: { digest: string }; layers: Array<{ digest: string }> }
  config = { digest: manifest.config.digest, layer: manifest.layers[0]!.digest }
}, 120_000)

afterAll(() => {
  front?.stop(true)
  target?.stop(true)
})

const start = (privateHosts?: string[]) =>
  startInProcess({
    registries: { [frontHost]: {} },
    resolve: resolveAll, // the Bun entry's resolver: real DNS
    config: privateHosts ? { upstream: { privateHosts } } : {},
  })

const pull = (ep: Running) =>
  fetch(`${ep.url}/v1.50/images/create?fromImage=${frontHost}/library/busybox&tag=latest`, {
    method: 'POST',
    headers: { 'x-registry-auth': 'e30=' },
  })

const mirrorBlob = (ep: Running, digest: string) =>
  fetch(`${ep.url}/v2/${frontHost}/library/busybox/blobs/${digest}`)

const downloaded = () => `Status: Downloaded newer image for ${frontHost}/library/busybox:latest`

async function ociError(res: Response) {
  expect(res.headers.get('content-type')).toStartWith('application/json')
  return ((await res.json()) as { errors: Array<{ code: string; message: string }> }).errors[0]!
}

const refusal = (what: string, kind: string) =>
  `refusing to connect to ${what}: ${kind}; list it in upstream.privateHosts to allow it`

describe('the configured registry', () => {
  test('works through the guard, with real DNS', async () => {
    aim.blobs = aim.realm = undefined
    const ep = await start()
    try {
      const res = await pull(ep)
      expect(res.status).toBe(200)
      expect(lines(await readMessages(res)).at(-1)).toBe(downloaded())
    } finally {
      await ep.stop()
    }
  })
})

describe('a blob redirected to a host the config does not name', () => {
  let ep: InProcess
  beforeAll(async () => {
    ep = await start()
  })
  afterAll(() => ep?.stop())

  test('is refused on /images/create, and the host never sees a request', async () => {
    reached = []
    aim.blobs = `http://127.0.0.2:${targetPort}`
    const res = await pull(ep)
    const last = (await readMessages(res)).at(-1)!
    const url = `http://127.0.0.2:${targetPort}/v2/library/busybox/blobs/${config.digest}`
    expect(last.errorDetail?.message).toBe(
      `Get "http://${frontHost}/v2/library/busybox/blobs/${config.digest}": ` +
        `redirected to ${url}: ${refusal('127.0.0.2', 'a loopback address')}`
    )
    expect(reached).toEqual([])
  })

  test.each([
    ['127.0.0.2', `127.0.0.2:PORT`, '127.0.0.2', 'a loopback address'],
    ['decimal', `2130706434:PORT`, '127.0.0.2', 'a loopback address'],
    ['IPv4-mapped', `[::ffff:127.0.0.2]:PORT`, '127.0.0.2', 'a loopback address'],
    ['localhost', `localhost:PORT`, 'localhost', 'a loopback address'],
    ['a subdomain of localhost', `registry.localhost:PORT`, 'registry.localhost', 'a loopback address'],
    ['cloud metadata', '169.254.169.254', '169.254.169.254', 'a link-local address'],
  ])('is refused on /v2 with 502 (%s)', async (_, host, what, kind) => {
    reached = []
    aim.blobs = `http://${host.replace('PORT', String(targetPort))}`
    const res = await mirrorBlob(ep, config.layer)
    expect(res.status).toBe(502)
    const error = await ociError(res)
    expect(error.code).toBe('UNAVAILABLE')
    expect(error.message).toEndWith(refusal(what, kind))
    expect(reached).toEqual([])
  })

  test('is refused when its name resolves to a private address (real DNS)', async () => {
    reached = []
    // This machine's name resolves to loopback or a private address, never to a public one.
    const name = hostname().toLowerCase()
    aim.blobs = `http://${name}:${targetPort}`
    const error = await ociError(await mirrorBlob(ep, config.layer))
    expect(error.message).toMatch(new RegExp(`refusing to connect to ${name} \\(.+\\): a \\S+ address; list it`))
    expect(reached).toEqual([])
  })
})

describe('upstream.privateHosts', () => {
  test.each([['127.0.0.2'], ['127.0.0.0/30']])('%s lets the redirect through', async (entry) => {
    reached = []
    aim.blobs = `http://127.0.0.2:${targetPort}`
    const ep = await start([entry])
    try {
      const res = await pull(ep)
      expect(lines(await readMessages(res)).at(-1)).toBe(downloaded())
      const blob = await mirrorBlob(ep, config.layer)
      expect(blob.status).toBe(200)
      const upstream = await fetch(`${tb.url}/v2/library/busybox/blobs/${config.layer}`)
      expect(new Uint8Array(await blob.arrayBuffer())).toEqual(new Uint8Array(await upstream.arrayBuffer()))
      expect(reached).toContain(`GET /v2/library/busybox/blobs/${config.digest}`)
    } finally {
      await ep.stop()
    }
  })
})

describe('a token realm at a host the config does not name', () => {
  test('is refused before any credentials are sent there', async () => {
    reached = []
    aim.blobs = undefined
    aim.realm = `http://127.0.0.2:${targetPort}/token`
    const ep = await start()
    try {
      const auth = Buffer.from(JSON.stringify({ username: 'alice', password: 'secret' })).toString('base64url')
      const res = await fetch(`${ep.url}/v1.50/images/create?fromImage=${frontHost}/library/busybox&tag=latest`, {
        method: 'POST',
        headers: { 'x-registry-auth': auth },
      })
      // The pull fails before its stream starts: an Engine API error, in Go's url.Error words.
      expect(res.status).toBe(500)
      expect(res.headers.get('content-type')).toBe('application/json')
      const { message } = (await res.json()) as { message: string }
      const scope = encodeURIComponent('repository:library/busybox:pull')
      const token = `http://127.0.0.2:${targetPort}/token?service=front&scope=${scope}&account=alice`
      expect(message).toBe(
        `Get "http://${frontHost}/v2/library/busybox/manifests/latest": Get "${token}": ` +
          refusal('127.0.0.2', 'a loopback address')
      )
      expect(reached).toEqual([])
    } finally {
      aim.realm = undefined
      await ep.stop()
    }
  })
})

describe('docker import from a URL', () => {
  const importFrom = (ep: Running, src: string) =>
    fetch(`${ep.url}/v1.50/images/create?fromSrc=${encodeURIComponent(src)}&repo=imported&tag=x`, {
      method: 'POST',
    })

  test('an unconfigured host is refused with 403 before anything is fetched', async () => {
    reached = []
    const ep = await start(['127.0.0.2'])
    try {
      for (const src of [`http://127.0.0.2:${targetPort}/x.tar`, `http://2130706434:${targetPort}/x.tar`]) {
        const res = await importFrom(ep, src)
        expect(res.status).toBe(403)
        expect(((await res.json()) as { message: string }).message).toContain('is not allowed by this edgepull')
      }
      expect(reached).toEqual([])
    } finally {
      await ep.stop()
    }
  })

  test('a configured host that redirects to a private one is refused in the stream', async () => {
    reached = []
    aim.blobs = `http://127.0.0.2:${targetPort}`
    const ep = await start()
    try {
      // The front registry redirects this path as it does blobs.
      const res = await importFrom(ep, `http://${frontHost}/v2/library/busybox/blobs/${config.layer}`)
      expect(res.status).toBe(200)
      const last = (await readMessages(res)).at(-1)!
      expect(last.errorDetail?.message).toEndWith(refusal('127.0.0.2', 'a loopback address'))
      expect(reached).toEqual([])
    } finally {
      await ep.stop()
    }
  })
})

describe('the Node entry', () => {
  let node: Running
  beforeAll(async () => {
    node = await startNode({ [frontHost]: {} })
  }, 60_000)
  afterAll(() => node?.stop())

  test('checks the address each connection goes to (a name resolving to loopback)', async () => {
    reached = []
    const name = hostname().toLowerCase()
    aim.blobs = `http://${name}:${targetPort}`
    const error = await ociError(await mirrorBlob(node, config.layer))
    const redirected = `redirected to http://${name}:${targetPort}/v2/.*`
    const refused = `refusing to connect to ${name} \\(.+\\): a \\S+ address; list it`
    expect(error.message).toMatch(new RegExp(`${redirected}: ${refused}`))
    expect(reached).toEqual([])
  })

  test('refuses literal private addresses too', async () => {
    reached = []
    aim.blobs = `http://127.0.0.2:${targetPort}`
    const error = await ociError(await mirrorBlob(node, config.layer))
    expect(error.message).toEndWith(refusal('127.0.0.2', 'a loopback address'))
    expect(reached).toEqual([])
  })
})
