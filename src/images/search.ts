/**
 * `docker search`, as registry.Service.Search does it: the first path segment of the term
 * names the registry when it looks like a host; Docker Hub is asked through its search API,
 * any other registry (or docker.io pointed at a plain registry) through its catalog.
 * Filters are applied to what comes back, and `is_automated` is always false.
 */
import { DOCKER_HUB, type RegistryConfig } from '../config.ts'
import type { Credentials } from '../registry/auth/credentials.ts'
import type { RegistryClient } from '../registry/client.ts'
import {
  configuredCredentials,
  HUB_ENDPOINT,
  lookupPullEndpoints,
  normalizeEndpointUrl,
} from '../registry/endpoints.ts'
import type { Fetch } from '../registry/fetch.ts'
import { ImageError } from './errors.ts'
import { searchCatalog } from './search-catalog.ts'
import type { SearchFilters } from './search-filters.ts'
import { searchHub, type SearchResult } from './search-hub.ts'

export type { SearchResult } from './search-hub.ts'

/** dockerd's default when `limit` is absent or 0. */
export const DEFAULT_SEARCH_LIMIT = 25

/** What a search reaches upstream with. */
export interface SearchDeps {
  registry: RegistryClient
  registries: Record<string, RegistryConfig>
  /** Plain fetch for Docker Hub's search API; without it only catalogs can be searched. */
  fetch?: Fetch
}

/** The request's side of a search. */
export interface SearchOptions {
  /** 1 to 100; 0 or absent means 25. */
  limit?: number
  filters?: SearchFilters
  /** From X-Registry-Auth; the configured ones for the registry otherwise. */
  credentials?: Credentials
  /** Passed on to Docker Hub (the client's X-Meta-* headers). */
  headers?: Record<string, string>
  signal?: AbortSignal
}

const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])

/** splitReposSearchTerm: `myreg:5000/foo` → [`myreg:5000`, `foo`]; `foo/bar` → [docker.io, …]. */
export function splitSearchTerm(term: string): [index: string, remote: string] {
  const slash = term.indexOf('/')
  const first = slash < 0 ? '' : term.slice(0, slash)
  if (slash < 0 || (!first.includes('.') && !first.includes(':') && first !== 'localhost')) {
    return [DOCKER_HUB, term]
  }
  const index = first.toLowerCase()
  return [HUB_ALIASES.has(index) ? DOCKER_HUB : index, term.slice(slash + 1)]
}

/** True when docker.io is Docker Hub itself rather than a registry configured in its place. */
function usesHubIndex(registries: Record<string, RegistryConfig>): boolean {
  const endpoint = registries[DOCKER_HUB]?.endpoint
  return !endpoint || normalizeEndpointUrl(endpoint) === HUB_ENDPOINT
}

function matches(r: SearchResult, f: SearchFilters): boolean {
  if (f.isOfficial !== undefined && r.is_official !== f.isOfficial) return false
  if (f.stars !== undefined && r.star_count < f.stars) return false
  return true
}

/** Searches for `term`; errors are ImageErrors carrying dockerd's status and wording. */
export async function searchImages(
  term: string,
  deps: SearchDeps,
  opts: SearchOptions = {}
): Promise<SearchResult[]> {
  const filters = opts.filters ?? {}
  // Hub's is_automated is deprecated: asking for automated images finds none.
  if (filters.isAutomated) return []
  if (term.includes('://')) {
    throw new ImageError(
      400,
      `invalid repository name: repository name (${term}) should not have a scheme`
    )
  }
  const [domain, parsedRemote] = splitSearchTerm(term)
  // An edge proxy must not become a way to reach arbitrary hosts: upstreams are allow-listed.
  if (domain !== DOCKER_HUB && !deps.registries[domain]) {
    throw new ImageError(
      403,
      `registry ${domain} is not allowed by this edgepull: add it to "registries" in the config`
    )
  }
  // Official images are stored as `foo`, not `library/foo`.
  const remote = domain === DOCKER_HUB ? parsedRemote.replace(/^library\//, '') : parsedRemote
  const limit = opts.limit || DEFAULT_SEARCH_LIMIT
  if (limit < 1 || limit > 100) {
    throw new ImageError(400, `limit ${limit} is outside the range of [1, 100]`)
  }
  const credentials = opts.credentials ?? configuredCredentials(domain, deps.registries)

  if (domain === DOCKER_HUB && usesHubIndex(deps.registries)) {
    if (!deps.fetch) throw new ImageError(500, 'searching Docker Hub needs a fetch in this runtime')
    const results = await searchHub(deps.fetch, remote, {
      limit,
      credentials,
      headers: opts.headers,
      signal: opts.signal,
    })
    return results.filter((r) => matches(r, filters))
  }
  // Mirrors serve pulls only, as in dockerd; the registry itself is what gets listed.
  const endpoints = lookupPullEndpoints(domain, deps.registries).filter((e) => !e.mirror)
  return searchCatalog(deps.registry, remote, {
    domain,
    endpoints,
    limit,
    keep: (r) => matches(r, filters),
    credentials,
    signal: opts.signal,
  })
}
