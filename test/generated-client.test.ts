/**
 * A client generated from openapi/engine.json (openapi-typescript types + openapi-fetch)
 * drives the real routes against the testbed: if the document and the server disagree, this
 * fails to type-check or to run. The types live in test/client/engine.d.ts (`npm run client`,
 * also run by `npm run openapi`): they prove the document, users generate their own.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import createClient from 'openapi-fetch'
import type { components, paths } from './client/engine.d.ts'
import { startInProcess, type InProcess } from './support/edgepull.ts'
import { testbed, type Testbed } from './support/testbed.ts'

const ROOT = resolve(import.meta.dir, '..')
const TYPES = join(ROOT, 'test/client/engine.d.ts')

test('test/client/engine.d.ts is what openapi-typescript makes of openapi/engine.json (npm run client)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgepull-client-'))
  try {
    const out = join(dir, 'engine.d.ts')
    const proc = Bun.spawn(
      [join(ROOT, 'node_modules/.bin/openapi-typescript'), 'openapi/engine.json', '--output', out],
      { cwd: ROOT, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: { ...process.env, REDOCLY_TELEMETRY: 'off' } }
    )
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited])
    expect({ code, stderr: code ? stderr : '' }).toEqual({ code: 0, stderr: '' })
    expect(readFileSync(TYPES, 'utf8')).toBe(readFileSync(out, 'utf8'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 60_000)

type CreateImageInfo = components['schemas']['CreateImageInfo']
type SearchItem = components['schemas']['ImageSearchResponseItem']

let tb: Testbed
let ep: InProcess
let client: ReturnType<typeof createClient<paths>>

beforeAll(async () => {
  tb = await testbed('open')
  ep = await startInProcess({ registries: { 'docker.io': { endpoint: tb.url } } })
  client = createClient<paths>({ baseUrl: ep.url })
}, 120_000)
afterAll(() => ep?.stop())

describe('the generated client against the real routes', () => {
  test('SystemPing and SystemVersion', async () => {
    const ping = await client.GET('/_ping', { parseAs: 'text' })
    expect(ping.response.status).toBe(200)
    expect(ping.data).toBe('OK')
    const version = await client.GET('/version')
    expect(version.error).toBeUndefined()
    expect(version.data?.ApiVersion).toBe('1.51')
    expect(version.data?.Components[0].Name).toBe('Engine')
  })

  test('ImageCreate pulls, its stream lines are CreateImageInfo', async () => {
    const { data, error, response } = await client.POST('/images/create', {
      params: { query: { fromImage: 'docker.io/library/busybox', tag: 'latest' }, header: { 'x-registry-auth': 'e30=' } },
      parseAs: 'text',
    })
    expect(error).toBeUndefined()
    expect(response.status).toBe(200)
    const messages = data!.trim().split('\r\n').map((l) => JSON.parse(l) as CreateImageInfo)
    expect(messages[0].status).toBe('Pulling from library/busybox')
    expect(messages.at(-1)?.status).toBe('Status: Downloaded newer image for busybox:latest')
  }, 60_000)

  test('ImageCreate errors are ErrorResponse', async () => {
    const { error, response } = await client.POST('/images/create', {
      params: { query: { fromImage: 'docker.io/library/nope', tag: 'latest' } },
    })
    expect(response.status).toBe(404)
    expect(error?.message).toBe('manifest for nope:latest not found: manifest unknown: manifest unknown')
  }, 60_000)

  test('the image service: list, inspect, history, tag, delete, save, prune', async () => {
    await client.POST('/images/create', {
      params: { query: { fromImage: 'docker.io/library/layered', tag: 'v1' } },
      parseAs: 'text',
    })
    const list = await client.GET('/images/json')
    expect(list.error).toBeUndefined()
    const listed = list.data?.find((i) => i.RepoTags?.includes('layered:v1'))
    expect(listed?.Id).toStartWith('sha256:')

    // Names go into the path percent-encoded (openapi-fetch's default) and still resolve.
    const name = 'docker.io/library/layered:v1'
    const inspect = await client.GET('/images/{name}/json', { params: { path: { name } } })
    expect(inspect.error).toBeUndefined()
    expect(inspect.data?.Id).toBe(listed!.Id)
    const history = await client.GET('/images/{name}/history', { params: { path: { name } } })
    expect(history.error).toBeUndefined()
    expect(history.data!.length).toBeGreaterThan(0)

    const tag = await client.POST('/images/{name}/tag', {
      params: { path: { name: 'layered:v1' }, query: { repo: 'docker.io/library/generated', tag: 'v2' } },
    })
    expect(tag.response.status).toBe(201)
    const removed = await client.DELETE('/images/{name}', { params: { path: { name: 'generated:v2' } } })
    expect(removed.error).toBeUndefined()
    expect(removed.data).toEqual([{ Untagged: 'generated:v2' }])
    const missing = await client.GET('/images/{name}/json', { params: { path: { name: 'generated:v2' } } })
    expect(missing.response.status).toBe(404)
    expect(missing.error?.message).toBe('No such image: generated:v2')

    const save = await client.GET('/images/{name}/get', { params: { path: { name } }, parseAs: 'arrayBuffer' })
    expect(save.response.headers.get('content-type')).toBe('application/x-tar')
    expect((save.data as ArrayBuffer).byteLength).toBeGreaterThan(1024)

    const prune = await client.POST('/images/prune')
    expect(prune.error).toBeUndefined()
    expect(typeof prune.data?.SpaceReclaimed).toBe('number')
  }, 60_000)

  test('ImageSearch with a typed limit and filters', async () => {
    const { data, error } = await client.GET('/images/search', {
      params: { query: { term: 'layered', limit: 5, filters: '{"is-official":{"true":true}}' } },
    })
    expect(error).toBeUndefined()
    const layered: SearchItem = {
      star_count: 0,
      is_official: true,
      name: 'layered',
      is_automated: false,
      description: '',
    }
    expect(data).toContainEqual(layered)
    expect(data!.every((item) => item.is_official)).toBe(true)
    const bad = await client.GET('/images/search', { params: { query: { term: 'layered', limit: 101 } } })
    expect(bad.response.status).toBe(400)
    expect(bad.error?.message).toBe('limit 101 is outside the range of [1, 100]')
  })
})
