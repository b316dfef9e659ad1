import { describe, expect, test } from 'bun:test'
import { createRegistryClient } from '../registry/client.ts'
import type { Fetch } from '../registry/fetch.ts'
import type { RegistryClient } from '../registry/client.ts'
import type { Catalog } from '../registry/listing.ts'
import { catalogResult, searchCatalog } from './search-catalog.ts'
import { parseSearchFilters } from './search-filters.ts'
import { hubResults } from './search-hub.ts'
import { searchImages, splitSearchTerm, type SearchDeps } from './search.ts'

// Docker Hub cannot be reached from here; this is the shape its /v1/search answers with.
const HUB_ANSWER = {
  num_pages: 1,
  num_results: 3,
  page_size: 25,
  page: 1,
  query: 'alpine',
  results: [
    {
      name: 'alpine',
      description: 'A minimal Docker image',
      star_count: 11000,
      is_trusted: false,
      is_automated: false,
      is_official: true,
    },
    {
      name: 'alpinelinux/docker-cli',
      description: 'Simple CLI',
      star_count: 12,
      is_trusted: true,
      is_automated: true,
      is_official: false,
    },
    { name: 'someone/alpine-extra', star_count: 0, is_official: false },
  ],
}

function hub(answer: unknown = HUB_ANSWER, status = 200) {
  const seen: Request[] = []
  const fetch: Fetch = async (req) => {
    seen.push(req)
    return new Response(JSON.stringify(answer), { status, headers: { 'content-type': 'application/json' } })
  }
  const unused: Fetch = () => Promise.reject(new Error('the registry client is not used for Hub'))
  const deps: SearchDeps = { registry: createRegistryClient({ fetch: unused }), registries: {}, fetch }
  return { deps, seen }
}

const rejection = async (p: Promise<unknown>) => {
  const err = (await p.then(() => undefined, (e) => e)) as { status: number; message: string }
  return { status: err?.status, message: err?.message }
}

describe('Docker Hub search', () => {
  test('asks index.docker.io as dockerd does and maps rows to ImageSearchResponseItem', async () => {
    const { deps, seen } = hub()
    const results = await searchImages('library/alpine', deps, { limit: 5, headers: { 'x-meta-a': '1' } })
    const url = new URL(seen[0].url)
    expect(`${url.origin}${url.pathname}`).toBe('https://index.docker.io/v1/search')
    expect(url.searchParams.get('q')).toBe('alpine')
    expect(url.searchParams.get('n')).toBe('5')
    expect(seen[0].headers.get('x-docker-token')).toBe('true')
    expect(seen[0].headers.get('x-meta-a')).toBe('1')
    expect(seen[0].headers.get('authorization')).toBeNull()
    const item = (star_count: number, is_official: boolean, name: string, description: string) => ({
      star_count,
      is_official,
      name,
      is_automated: false,
      description,
    })
    expect(results).toEqual([
      item(11000, true, 'alpine', 'A minimal Docker image'),
      item(12, false, 'alpinelinux/docker-cli', 'Simple CLI'),
      item(0, false, 'someone/alpine-extra', ''),
    ])
    const keys = ['star_count', 'is_official', 'name', 'is_automated', 'description']
    expect(Object.keys(results[0])).toEqual(keys)
  })

  test('the default limit is 25, and a username is sent as Basic auth', async () => {
    const { deps, seen } = hub()
    await searchImages('docker.io/alpine', deps, { credentials: { username: 'bob', password: 'pw' } })
    expect(new URL(seen[0].url).searchParams.get('n')).toBe('25')
    expect(seen[0].headers.get('authorization')).toBe(`Basic ${btoa('bob:pw')}`)
    await searchImages('alpine', deps, { credentials: { username: 'bob', identityToken: 't' } })
    expect(seen[1].headers.get('authorization')).toBeNull()
  })

  test('filters apply to what Hub returns', async () => {
    const { deps } = hub()
    const found = async (filters: string) =>
      (await searchImages('alpine', deps, { filters: parseSearchFilters(filters) })).map((r) => r.name)
    expect(await found('{"is-official":{"true":true}}')).toEqual(['alpine'])
    expect(await found('{"is-official":["false"]}')).toEqual(['alpinelinux/docker-cli', 'someone/alpine-extra'])
    expect(await found('{"stars":{"5":true,"10":true}}')).toEqual(['alpine', 'alpinelinux/docker-cli'])
  })

  test('is-automated=true finds nothing without asking upstream', async () => {
    const { deps, seen } = hub()
    expect(await searchImages('alpine', deps, { filters: { isAutomated: true } })).toEqual([])
    expect(seen).toHaveLength(0)
  })

  test('a non-200 answer is a 500 naming the status; garbage is a decoding error', async () => {
    expect(await rejection(searchImages('alpine', hub({}, 404).deps))).toEqual({
      status: 500,
      message: 'unexpected status code 404',
    })
    const bad = hub()
    bad.deps.fetch = async () => new Response('<html>', { status: 200 })
    expect((await rejection(searchImages('alpine', bad.deps))).message).toStartWith(
      'error decoding registry search results: '
    )
    expect(hubResults({ results: [{ description: 'no name' }, null] })).toEqual([])
  })
})

describe('request checks, with dockerd’s wording', () => {
  test('limit out of range', async () => {
    const { deps, seen } = hub()
    expect(await rejection(searchImages('alpine', deps, { limit: 101 }))).toEqual({
      status: 400,
      message: 'limit 101 is outside the range of [1, 100]',
    })
    expect(seen).toHaveLength(0)
  })

  test('a scheme in the term', async () => {
    expect(await rejection(searchImages('http://x/y', hub().deps))).toEqual({
      status: 400,
      message: 'invalid repository name: repository name (http://x/y) should not have a scheme',
    })
  })

  test('a registry that is not configured is refused, as pulls are', async () => {
    expect(await rejection(searchImages('evil.example:5000/x', hub().deps))).toEqual({
      status: 403,
      message: 'registry evil.example:5000 is not allowed by this edgepull: add it to "registries" in the config',
    })
  })

  test('filters', () => {
    const bad = (json: string) => {
      try {
        parseSearchFilters(json)
      } catch (err) {
        return (err as Error).message
      }
      return 'accepted'
    }
    expect(bad('{"label":{"a":true}}')).toBe("invalid filter 'label'")
    expect(bad('{"is-official":{"maybe":true}}')).toBe("invalid filter 'is-official=[maybe]'")
    expect(bad('{"is-official":{"true":true,"false":true}}')).toBe("invalid filter 'is-official=[true false]'")
    expect(bad('{"is-official":{}}')).toBe("invalid filter 'is-official'")
    expect(bad('{"stars":{"x":true}}')).toBe(
      `invalid filter 'stars=x': strconv.Atoi: parsing "x": invalid syntax`
    )
    expect(bad('not json')).toBe('invalid filter')
    expect(bad('{"stars":"3"}')).toBe('invalid filter')
    expect(parseSearchFilters('{"is-official":{"1":true},"is-automated":{"0":true},"stars":["2","7"]}')).toEqual({
      isOfficial: true,
      isAutomated: false,
      stars: 7,
    })
    expect(parseSearchFilters(undefined)).toEqual({})
  })
})

describe('terms and names', () => {
  test('the first segment names a registry only when it looks like a host', () => {
    expect(splitSearchTerm('busybox')).toEqual(['docker.io', 'busybox'])
    expect(splitSearchTerm('alice/tools')).toEqual(['docker.io', 'alice/tools'])
    expect(splitSearchTerm('127.0.0.1:5000/foo/bar')).toEqual(['127.0.0.1:5000', 'foo/bar'])
    expect(splitSearchTerm('localhost/foo')).toEqual(['localhost', 'foo'])
    expect(splitSearchTerm('index.docker.io/library/x')).toEqual(['docker.io', 'library/x'])
  })

  test('catalog hits are named familiar-style; library/* on docker.io is official', () => {
    expect(catalogResult('docker.io', 'library/busybox')).toEqual({
      star_count: 0,
      is_official: true,
      name: 'busybox',
      is_automated: false,
      description: '',
    })
    expect(catalogResult('docker.io', 'alice/x')).toMatchObject({ name: 'alice/x', is_official: false })
    expect(catalogResult('127.0.0.1:5000', 'library/busybox')).toMatchObject({
      name: '127.0.0.1:5000/library/busybox',
      is_official: false,
    })
  })
})

describe('catalog walk', () => {
  // Paging is what a real registry does only past 100 repositories; pages of 2 stand in here.
  function pagedCatalog(pages: Catalog[]) {
    const asked: Array<string | undefined> = []
    const registry = {
      repository: () => {
        throw new Error('not used')
      },
      async catalog(_endpoint, o = {}) {
        asked.push(o.last)
        return pages[asked.length - 1] ?? { repositories: [] }
      },
    } satisfies RegistryClient
    return { registry, asked }
  }
  const endpoint = { url: 'http://127.0.0.1:5000', mirror: false }
  const PAGES: Catalog[] = [
    { repositories: ['a/app', 'b/tool'], next: { last: 'b/tool', n: 2 } },
    { repositories: ['c/app', 'd/x'], next: { last: 'd/x', n: 2 } },
    { repositories: ['e/app-two'] },
  ]

  test('follows next pages and stops as soon as the limit is met', async () => {
    const all = pagedCatalog(PAGES)
    const hits = await searchCatalog(all.registry, 'app', { domain: '127.0.0.1:5000', endpoints: [endpoint], limit: 10 })
    expect(hits.map((h) => h.name)).toEqual(['127.0.0.1:5000/a/app', '127.0.0.1:5000/c/app', '127.0.0.1:5000/e/app-two'])
    expect(all.asked).toEqual([undefined, 'b/tool', 'd/x'])

    const two = pagedCatalog(PAGES)
    await searchCatalog(two.registry, 'app', { domain: '127.0.0.1:5000', endpoints: [endpoint], limit: 2 })
    expect(two.asked).toEqual([undefined, 'b/tool'])
  })

  test('a registry that repeats its next page does not loop', async () => {
    const loop = pagedCatalog(Array(10).fill({ repositories: ['x/app'], next: { last: 'x/app' } }))
    const hits = await searchCatalog(loop.registry, 'app', { domain: 'docker.io', endpoints: [endpoint], limit: 100 })
    expect(hits.map((h) => h.name)).toEqual(['x/app', 'x/app'])
    expect(loop.asked).toEqual([undefined, 'x/app'])
  })

  test('filters are applied before the limit counts', async () => {
    const { registry } = pagedCatalog([{ repositories: ['alice/app', 'library/app', 'library/app2'] }])
    const hits = await searchCatalog(registry, 'app', {
      domain: 'docker.io',
      endpoints: [endpoint],
      limit: 1,
      keep: (r) => r.is_official,
    })
    expect(hits.map((h) => h.name)).toEqual(['app'])
  })
})
