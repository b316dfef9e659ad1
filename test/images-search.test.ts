/**
 * GET /images/search against the real upstream registry's catalog (docker.io pointed at it,
 * and the registry named in the term), with basic and token auth, Docker's request errors,
 * and the docker CLI rendering the answers. Docker Hub's own search API cannot be reached
 * from here: a stand-in for index.docker.io answers in its shape.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { docker, dockerConfig } from './support/docker-cli.ts'
import { startInProcess, type InProcess } from './support/edgepull.ts'
import { PASSWORD, testbed, USER, type Testbed } from './support/testbed.ts'

interface Item {
  star_count: number
  is_official: boolean
  name: string
  is_automated: boolean
  description: string
}

const auth = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')

async function search(ep: InProcess, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${ep.url}/v1.50/images/search?${query}`, {
    headers: { 'x-registry-auth': 'e30=', ...headers },
  })
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as any }
}

const names = (items: Item[]) => items.map((i) => i.name)

// Only what index.docker.io would answer; everything else goes to the real network.
const HUB_ROWS = [
  {
    name: 'alpine',
    description: 'A minimal Docker image based on Alpine Linux',
    star_count: 11234,
    is_official: true,
    is_automated: false,
  },
  {
    name: 'someone/alpine-tools',
    description: 'Tools',
    star_count: 3,
    is_official: false,
    is_automated: true,
  },
]
async function hubStandIn(req: Request): Promise<Response> {
  if (new URL(req.url).host !== 'index.docker.io') return fetch(req)
  return Response.json({ num_results: HUB_ROWS.length, query: 'alpine', results: HUB_ROWS })
}

let open: Testbed
let basic: Testbed
let token: Testbed
let ep: InProcess

beforeAll(async () => {
  ;[open, basic, token] = await Promise.all([testbed('open'), testbed('basic'), testbed('token')])
  ep = await startInProcess({
    registries: {
      'docker.io': { endpoint: open.url },
      [open.host]: {},
      [basic.host]: { username: USER, password: PASSWORD },
      [token.host]: {},
    },
  })
}, 120_000)
afterAll(() => ep?.stop())

describe('docker.io pointed at a plain registry: its catalog', () => {
  test('names containing the term, familiar-style, library/* official', async () => {
    const r = await search(ep, 'term=busybox')
    expect(r.status).toBe(200)
    expect(r.type).toBe('application/json')
    expect(names(r.body)).toEqual(expect.arrayContaining(['busybox', 'busybox-v2s2', 'private/busybox']))
    expect(names(r.body).every((n) => n.includes('busybox'))).toBe(true)
    expect(r.body.find((i: Item) => i.name === 'busybox')).toEqual({
      star_count: 0,
      is_official: true,
      name: 'busybox',
      is_automated: false,
      description: '',
    })
    expect(r.body.find((i: Item) => i.name === 'private/busybox').is_official).toBe(false)
    // `library/` is stripped for docker.io, as dockerd does.
    expect(names((await search(ep, 'term=library/busybox')).body)).toEqual(names(r.body))
  }, 60_000)

  test('limit and filters', async () => {
    expect((await search(ep, 'term=busybox&limit=1')).body).toHaveLength(1)
    const official = await search(ep, `term=busybox&filters=${encodeURIComponent('{"is-official":{"true":true}}')}`)
    expect(names(official.body)).toContain('busybox')
    expect(names(official.body)).not.toContain('private/busybox')
    const automated = await search(ep, `term=busybox&filters=${encodeURIComponent('{"is-automated":["true"]}')}`)
    expect(automated.body).toEqual([])
    const starred = await search(ep, `term=busybox&filters=${encodeURIComponent('{"stars":{"1":true}}')}`)
    expect(starred.body).toEqual([])
  }, 60_000)
})

describe('a configured registry named in the term', () => {
  test('open: names carry the registry host', async () => {
    // Other test files push into the same upstream, so more repositories may match.
    const r = await search(ep, `term=${open.host}/layered`)
    expect(r.status).toBe(200)
    expect(r.body).toContainEqual({
      star_count: 0,
      is_official: false,
      name: `${open.host}/library/layered`,
      is_automated: false,
      description: '',
    })
    expect(names(r.body).every((n) => n.startsWith(`${open.host}/`) && n.includes('layered'))).toBe(true)
    const all = await search(ep, `term=${open.host}/`)
    expect(names(all.body)).toEqual(
      expect.arrayContaining(['busybox', 'layered', 'multiarch', 'big', 'many'].map((n) => `${open.host}/library/${n}`))
    )
  }, 60_000)

  test('basic: the configured credentials, or X-Registry-Auth, list the catalog', async () => {
    expect(names((await search(ep, `term=${basic.host}/many`)).body)).toContain(`${basic.host}/library/many`)
    const bare = await startInProcess({ registries: { [basic.host]: {} } })
    try {
      const anonymous = await search(bare, `term=${basic.host}/many`)
      expect(anonymous.status).toBe(500)
      expect(anonymous.body.message).toEndWith('no basic auth credentials')
      const withAuth = await search(bare, `term=${basic.host}/many`, {
        'x-registry-auth': auth({ username: USER, password: PASSWORD, serveraddress: basic.host }),
      })
      expect(withAuth.status).toBe(200)
      expect(names(withAuth.body)).toContain(`${basic.host}/library/many`)
    } finally {
      await bare.stop()
    }
  }, 60_000)

  test('token: a token server that grants no catalog scope is a 500, never a 401', async () => {
    const r = await search(ep, `term=${token.host}/busybox`)
    expect(r.status).toBe(500)
    expect(r.body.message).toBe('unexpected status code 401: denied: requested access to the resource is denied')
  }, 60_000)
})

describe('request errors, in dockerd’s words', () => {
  test('limit, term, filters, scheme, unknown registry', async () => {
    const message = async (q: string) => {
      const r = await search(ep, q)
      return [r.status, r.body.message]
    }
    expect(await message('term=busybox&limit=101')).toEqual([400, 'limit 101 is outside the range of [1, 100]'])
    expect(await message('term=busybox&limit=-1')).toEqual([400, 'invalid limit specified'])
    expect(await message('term=busybox&limit=ten')).toEqual([400, 'invalid limit specified'])
    expect(await message(`term=busybox&filters=${encodeURIComponent('{"label":{"x":true}}')}`)).toEqual([
      400,
      "invalid filter 'label'",
    ])
    expect(await message('term=http://h/x')).toEqual([
      400,
      'invalid repository name: repository name (http://h/x) should not have a scheme',
    ])
    expect(await message('term=elsewhere.example/x')).toEqual([
      403,
      'registry elsewhere.example is not allowed by this edgepull: add it to "registries" in the config',
    ])
    const noTerm = await search(ep, 'limit=3')
    expect(noTerm.status).toBe(400)
    expect(noTerm.body.message).toContain('term')
    expect((await search(ep, 'term=busybox&limit=0')).status).toBe(200)
  }, 60_000)
})

describe('the docker CLI', () => {
  test('docker search lists catalog hits in its table', async () => {
    const r = await docker(ep.host, ['search', '--limit', '10', 'layered'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const [header, ...rows] = r.stdout.trim().split('\n')
    expect(header).toMatch(/^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL/)
    expect(rows.filter((row) => /^layered\s+0\s+\[OK\]$/.test(row))).toHaveLength(1)
    expect(rows.every((row) => row.split(/\s/)[0].includes('layered'))).toBe(true)
  }, 60_000)

  test('docker search against Docker Hub’s search API, with a filter', async () => {
    const hub = await startInProcess({ registries: {}, fetch: hubStandIn })
    try {
      const all = await docker(hub.host, ['search', '--format', '{{.Name}}|{{.StarCount}}|{{.IsOfficial}}', 'alpine'])
      expect(all.code).toBe(0)
      expect(all.stdout.trim().split('\n')).toEqual(['alpine|11234|[OK]', 'someone/alpine-tools|3|'])
      const official = await docker(hub.host, ['search', '--filter', 'is-official=true', 'alpine'], dockerConfig())
      expect(official.code).toBe(0)
      expect(official.stdout).toContain('alpine')
      expect(official.stdout).not.toContain('someone/alpine-tools')
    } finally {
      await hub.stop()
    }
  }, 60_000)
})
