/**
 * Exposure controls (src/http/access.ts, rate-limit.ts): write routes behind the config's
 * `writeToken` — proven with the real docker CLI against the real Node entry, which sends it
 * from config.json's HttpHeaders — refused to everyone when edgepull listens beyond loopback
 * without one, refused in read-only mode while the /v2 mirror keeps filling, and a per-client
 * rate limit that answers 429 in each face's format (keyed on each runtime's peer address:
 * test/runtimes/cases.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { openapiDocument } from '../scripts/openapi-document.ts'
import { loadConfig, parseFileConfig } from '../src/config.ts'
import { EXPOSED_WITHOUT_TOKEN_MESSAGE, READ_ONLY_MESSAGE } from '../src/http/access.ts'
import type { Digest } from '../src/oci/digest.ts'
import { blobKey } from '../src/storage/keys.ts'
import { countingProxy, type CountingProxy } from './support/counting-proxy.ts'
import { docker, dockerConfig } from './support/docker-cli.ts'
import { startInProcess, startNode, type NodeProcess } from './support/edgepull.ts'
import { testbed, type Testbed } from './support/testbed.ts'

const WRITE_TOKEN = 'exposure-write-token-0123456789'
const ADMIN_TOKEN = 'exposure-admin-token-0123456789'
const NO_TOKEN = 'a token is required: send Authorization: Bearer <writeToken>'
const WRONG_TOKEN = 'the token sent is wrong: send Authorization: Bearer <writeToken>'
const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json'

/** Every Engine API write route, with a request that would change something if let through. */
const WRITES: Array<[method: string, path: string]> = [
  ['POST', '/images/create?fromImage=busybox&tag=latest'],
  ['POST', '/images/create?fromSrc=-&repo=imported'],
  ['POST', '/images/load'],
  ['POST', '/images/busybox/push'],
  ['POST', '/images/busybox/tag?repo=retagged&tag=1'],
  ['DELETE', '/images/busybox'],
  ['POST', '/images/prune?filters=%7B%22dangling%22%3A%5B%22false%22%5D%7D'],
  ['POST', '/commit?container=busybox&repo=committed'],
]
const WRITES_WITH_PREFIX = WRITES.flatMap(([m, p]) => [[m, p], [m, `/v1.45${p}`]] as const)

let tb: Testbed
beforeAll(async () => {
  tb = await testbed('open')
}, 120_000)

const send = (base: string, method: string, path: string, token?: string, body?: string) =>
  fetch(`${base}${path}`, {
    method,
    body,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  })

/** Asserts an Engine API (or /admin) refusal: status, exact content type, `{"message"}`. */
async function expectRefused(res: Response, status: number, message: string): Promise<void> {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toBe('application/json')
  expect(await res.json()).toEqual({ message })
}

const listed = async (base: string) =>
  ((await (await fetch(`${base}/images/json`)).json()) as Array<{ RepoTags: string[] }>)
    .flatMap((i) => i.RepoTags)
    .sort()

describe('with a writeToken (real Node entry, real docker CLI)', () => {
  let server: NodeProcess
  const authed = () => dockerConfig({}, { Authorization: `Bearer ${WRITE_TOKEN}` })
  beforeAll(async () => {
    server = await startNode(
      { 'docker.io': { endpoint: tb.url } },
      { config: { writeToken: WRITE_TOKEN, adminToken: ADMIN_TOKEN } }
    )
  }, 120_000)
  afterAll(() => server?.stop())

  test('docker pull, tag and rmi work with the token in config.json HttpHeaders', async () => {
    const pull = await docker(server.host, ['pull', 'busybox'], authed())
    expect(pull.stderr).toBe('')
    expect(pull.code).toBe(0)
    expect(pull.stdout).toContain('Status: Downloaded newer image for busybox:latest')
    const tag = await docker(server.host, ['tag', 'busybox', 'team/busybox:1'], authed())
    expect([tag.code, tag.stderr]).toEqual([0, ''])
    expect(await listed(server.url)).toEqual(['busybox:latest', 'team/busybox:1'])
    const rmi = await docker(server.host, ['rmi', 'team/busybox:1'], authed())
    expect([rmi.code, rmi.stdout.trim()]).toEqual([0, 'Untagged: team/busybox:1'])
    expect(await listed(server.url)).toEqual(['busybox:latest'])
  }, 60_000)

  test('without the token docker is refused with the message shown, and nothing changes', async () => {
    for (const args of [['pull', 'busybox'], ['tag', 'busybox', 'team/other:1'], ['rmi', 'busybox']]) {
      const r = await docker(server.host, args)
      expect([args[0], r.code]).toEqual([args[0], 1])
      expect(r.stderr.trim()).toEndWith(`Error response from daemon: ${NO_TOKEN}`)
    }
    const wrong = dockerConfig({}, { Authorization: 'Bearer not-the-write-token' })
    const r = await docker(server.host, ['pull', 'busybox'], wrong)
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toEndWith(`Error response from daemon: ${WRONG_TOKEN}`)
    // Reads stay open.
    const ls = await docker(server.host, ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])
    expect([ls.code, ls.stdout.trim()]).toEqual([0, 'busybox:latest'])
    expect((await docker(server.host, ['image', 'inspect', 'busybox'])).code).toBe(0)
  }, 60_000)

  test('every write route, with and without /v1.NN, answers 403 without the right token', async () => {
    const before = await listed(server.url)
    for (const [method, path] of WRITES_WITH_PREFIX) {
      await expectRefused(await send(server.url, method, path), 403, NO_TOKEN)
      await expectRefused(await send(server.url, method, path, 'wrong-token-wrong'), 403, WRONG_TOKEN)
      // The admin token opens /admin only.
      await expectRefused(await send(server.url, method, path, ADMIN_TOKEN), 403, WRONG_TOKEN)
    }
    expect(await listed(server.url)).toEqual(before)
    expect((await fetch(`${server.url}/_ping`)).status).toBe(200)
  }, 60_000)

  test('with the token the same requests reach their routes', async () => {
    // Requests whose answers show the route ran, without pushing to the shared testbed.
    const through: Array<[string, string, number]> = [
      ['POST', '/v1.45/images/busybox/tag?repo=retagged&tag=1', 201],
      ['DELETE', '/images/retagged:1', 200],
      ['POST', '/images/nosuch/push', 200], // the stream's errorDetail says no such image
      ['POST', '/commit?container=nosuch', 404],
      ['POST', '/images/prune', 200],
    ]
    for (const [method, path, status] of through) {
      const res = await send(server.url, method, path, WRITE_TOKEN)
      expect([method, path, res.status]).toEqual([method, path, status])
      await res.body?.cancel()
    }
    expect(await listed(server.url)).toEqual(['busybox:latest'])
  }, 60_000)

  test('/admin takes the adminToken or the writeToken, and answers 401 otherwise', async () => {
    const refresh = '/admin/tags/refresh?ref=busybox:latest'
    const admin = `Bearer <adminToken or writeToken>`
    const none = await send(server.url, 'POST', refresh)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="edgepull"')
    await expectRefused(none, 401, `a token is required: send Authorization: ${admin}`)
    await expectRefused(
      await send(server.url, 'POST', refresh, 'wrong-token-wrong'),
      401,
      `the token sent is wrong: send Authorization: ${admin}`
    )
    for (const token of [ADMIN_TOKEN, WRITE_TOKEN]) {
      const res = await send(server.url, 'POST', refresh, token)
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ repository: 'docker.io/library/busybox', tag: 'latest' })
    }
  }, 60_000)

  test('reads stay open: the Engine API reads and the /v2 mirror', async () => {
    for (const path of ['/_ping', '/version', '/images/json', '/v1.45/images/busybox/json', '/images/busybox/history']) {
      expect([path, (await fetch(`${server.url}${path}`)).status]).toEqual([path, 200])
    }
    const res = await fetch(`${server.url}/v2/library/busybox/manifests/latest`, {
      headers: { accept: ACCEPT },
    })
    expect(res.status).toBe(200)
  }, 60_000)
})

describe('listening beyond loopback', () => {
  test('without a writeToken: writes answer 403 saying to set one, the entry warns, reads work', async () => {
    const server = await startNode({ 'docker.io': { endpoint: tb.url } }, { env: { HOST: '0.0.0.0' } })
    try {
      expect(server.output()).toContain('listening beyond loopback without a writeToken')
      for (const [method, path] of WRITES_WITH_PREFIX) {
        await expectRefused(await send(server.url, method, path), 403, EXPOSED_WITHOUT_TOKEN_MESSAGE)
      }
      await expectRefused(
        await send(server.url, 'POST', '/admin/tags/refresh?ref=busybox'),
        403,
        EXPOSED_WITHOUT_TOKEN_MESSAGE
      )
      const r = await docker(server.host, ['pull', 'busybox'])
      expect(r.code).toBe(1)
      expect(r.stderr.trim()).toEndWith(`Error response from daemon: ${EXPOSED_WITHOUT_TOKEN_MESSAGE}`)
      expect((await fetch(`${server.url}/images/json`)).status).toBe(200)
      expect((await fetch(`${server.url}/v2/`)).status).toBe(401) // the usual challenge
    } finally {
      await server.stop()
    }
  }, 60_000)

  test('with a writeToken (from EDGEPULL_WRITE_TOKEN): no warning, and the token opens writes', async () => {
    const server = await startNode(
      { 'docker.io': { endpoint: tb.url } },
      { env: { HOST: '0.0.0.0', EDGEPULL_WRITE_TOKEN: WRITE_TOKEN } }
    )
    try {
      expect(server.output()).not.toContain('warning')
      await expectRefused(await send(server.url, 'POST', '/images/prune'), 403, NO_TOKEN)
      const r = await docker(server.host, ['pull', 'busybox'], dockerConfig({}, { Authorization: `Bearer ${WRITE_TOKEN}` }))
      expect([r.code, r.stderr]).toEqual([0, ''])
    } finally {
      await server.stop()
    }
  }, 60_000)
})

describe('read-only mode', () => {
  let proxy: CountingProxy
  beforeAll(async () => {
    proxy = await countingProxy(tb.url)
  })
  afterAll(() => proxy?.stop())

  test('every write route and /admin answer 403, token or not; /v2 serves and fills its cache', async () => {
    const ep = await startInProcess({
      registries: { 'docker.io': { endpoint: proxy.url } },
      store: 'memory',
      config: { readOnly: true, writeToken: WRITE_TOKEN, adminToken: ADMIN_TOKEN },
    })
    try {
      for (const [method, path] of [...WRITES_WITH_PREFIX, ['POST', '/admin/tags/refresh?ref=busybox'] as const]) {
        for (const token of [undefined, WRITE_TOKEN, ADMIN_TOKEN]) {
          await expectRefused(await send(ep.url, method, path, token), 403, READ_ONLY_MESSAGE)
        }
      }
      const manifest = (await (await fetch(`${tb.url}/v2/library/busybox/manifests/latest`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      })).json()) as { layers: Array<{ digest: Digest; size: number }> }
      const layer = manifest.layers[0]!
      const path = `/v2/library/busybox/blobs/${layer.digest}`
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${ep.url}${path}`)
        expect(res.status).toBe(200)
        expect((await res.arrayBuffer()).byteLength).toBe(layer.size)
      }
      expect(proxy.count('GET', path)).toBe(1)
      expect((await ep.driver.stat(blobKey(layer.digest)))?.size).toBe(layer.size)
    } finally {
      await ep.stop()
    }
  }, 60_000)
})

describe('rate limit', () => {
  const rateLimit = { requestsPerSecond: 0.5, burst: 3 }

  test('429 with Retry-After in each face\'s format; other clients are served', async () => {
    const ep = await startInProcess({
      registries: { 'docker.io': { endpoint: tb.url } },
      config: { rateLimit, trustProxy: true },
    })
    const from = (client: string, path: string) =>
      fetch(`${ep.url}${path}`, { headers: { 'x-forwarded-for': `203.0.113.9, ${client}` } })
    try {
      for (let i = 0; i < 3; i++) expect((await from('198.51.100.1', '/_ping')).status).toBe(200)
      const engine = await from('198.51.100.1', '/images/json')
      expect(engine.status).toBe(429)
      expect(engine.headers.get('content-type')).toBe('application/json')
      expect(Number(engine.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(Number(engine.headers.get('retry-after'))).toBeLessThanOrEqual(2)
      expect(((await engine.json()) as { message: string }).message).toMatch(/^too many requests/)
      const v2 = await from('198.51.100.1', '/v2/')
      expect(v2.status).toBe(429)
      expect(v2.headers.get('retry-after')).not.toBeNull()
      const body = (await v2.json()) as { errors: Array<{ code: string }> }
      expect(body.errors[0]!.code).toBe('TOOMANYREQUESTS')
      // Another client (the last X-Forwarded-For entry, the one the proxy saw) is served.
      expect((await from('198.51.100.2', '/_ping')).status).toBe(200)
    } finally {
      await ep.stop()
    }
  }, 30_000)

  test('without trustProxy X-Forwarded-For is ignored: the connection is the client', async () => {
    const slow = { requestsPerSecond: 0.01, burst: 3 } // no refill within the test
    const ep = await startInProcess({ registries: {}, config: { rateLimit: slow } })
    try {
      const statuses = []
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${ep.url}/_ping`, { headers: { 'x-forwarded-for': `198.51.100.${i}` } })
        statuses.push(res.status)
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429])
    } finally {
      await ep.stop()
    }
  }, 30_000)
})

describe('config and the OpenAPI document', () => {
  test('writeToken needs 16 characters; EDGEPULL_WRITE_TOKEN overrides it', () => {
    expect(() => parseFileConfig('{"writeToken":"short"}')).toThrow(/writeToken: must be at least 16/)
    const file = JSON.stringify({ writeToken: 'f'.repeat(16), readOnly: true })
    const env = { EDGEPULL_CONFIG: 'c.json' }
    expect(loadConfig(env, () => file)).toMatchObject({ writeToken: 'f'.repeat(16), readOnly: true })
    expect(loadConfig({ ...env, EDGEPULL_WRITE_TOKEN: 'e'.repeat(16) }, () => file).writeToken).toBe('e'.repeat(16))
    expect(() => loadConfig({ EDGEPULL_WRITE_TOKEN: 'x' }, () => '{}')).toThrow(/EDGEPULL_WRITE_TOKEN/)
    expect(() => parseFileConfig('{"rateLimit":{"requestsPerSecond":0,"burst":1}}')).toThrow(/rateLimit.requestsPerSecond/)
    expect(parseFileConfig('{}')).toMatchObject({ readOnly: false, trustProxy: false })
  })

  test('write routes declare the writeToken bearer scheme and 403; every route its 429', () => {
    const doc = openapiDocument() as any
    expect(doc.components.securitySchemes.writeToken).toMatchObject({ type: 'http', scheme: 'bearer' })
    const ops = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ path, method, op }))
    )
    const writes = ops.filter((o) => o.method === 'post' || o.method === 'delete')
    expect(writes.map((o) => `${o.method} ${o.path}`).sort()).toEqual([
      'delete /images/{name}',
      'post /commit',
      'post /images/create',
      'post /images/load',
      'post /images/prune',
      'post /images/{name}/push',
      'post /images/{name}/tag',
    ])
    for (const { op } of writes) {
      expect(op.security).toEqual([{ writeToken: [] }])
      expect(op.responses['403'].description).toContain('write token')
    }
    for (const { op } of ops) {
      expect(op.responses['429']).toBeDefined()
      if (!writes.some((w) => w.op === op)) expect(op.security).toBeUndefined()
    }
  })
})
