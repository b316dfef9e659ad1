/**
 * Search where there is no search API: a plain distribution registry only lists its
 * repositories (`/v2/_catalog`), so page through that and keep the names containing the
 * term, as Hub's search matches substrings of repository names.
 */
import { familiarName, parseNormalizedNamed } from '../oci/reference.ts'
import type { Credentials } from '../registry/auth/credentials.ts'
import type { RegistryClient } from '../registry/client.ts'
import { shouldFallback, type Endpoint } from '../registry/endpoints.ts'
import { RegistryError } from '../registry/errors.ts'
import type { NextPage } from '../registry/listing.ts'
import { ImageError } from './errors.ts'
import type { SearchResult } from './search-hub.ts'

// distribution refuses pages above its maxentries (1000 by default); 100 is safe everywhere.
const PAGE = 100
// A bound on the walk, so a huge (or looping) catalog cannot hold a request for ever.
const MAX_PAGES = 200

/** What a catalog search needs to know. */
export interface CatalogSearchOptions {
  /** The registry's domain as references spell it (`docker.io`, `127.0.0.1:5000`). */
  domain: string
  /** Tried in order, moving on after transport failures (loopback https → http). */
  endpoints: Endpoint[]
  limit: number
  /** Which hits to keep (the request's filters); all of them by default. */
  keep?: (r: SearchResult) => boolean
  credentials?: Credentials
  signal?: AbortSignal
}

/** `library/busybox` on docker.io → `busybox`, official; elsewhere `host/path`. */
export function catalogResult(domain: string, path: string): SearchResult {
  const ref = parseNormalizedNamed(`${domain}/${path}`)
  return {
    star_count: 0,
    is_official: domain === 'docker.io' && /^library\/[^/]+$/.test(path),
    name: familiarName(ref),
    is_automated: false,
    description: '',
  }
}

async function walk(
  registry: RegistryClient,
  endpoint: Endpoint,
  term: string,
  o: CatalogSearchOptions
): Promise<SearchResult[]> {
  const hits: SearchResult[] = []
  const needle = term.toLowerCase()
  let next: NextPage | undefined = { last: '', n: PAGE }
  for (let page = 0; next && page < MAX_PAGES; page++) {
    const opts = next.last ? { n: next.n ?? PAGE, last: next.last } : { n: PAGE }
    const catalog = await registry.catalog(endpoint, {
      ...opts,
      credentials: o.credentials,
      signal: o.signal,
    })
    for (const path of catalog.repositories) {
      if (!path.includes(needle)) continue
      let hit: SearchResult
      try {
        hit = catalogResult(o.domain, path)
      } catch {
        continue // a name that is no valid reference cannot be pulled either
      }
      if (o.keep && !o.keep(hit)) continue
      hits.push(hit)
      if (hits.length >= o.limit) return hits
    }
    // A registry that hands back the same page again would loop: stop there.
    next = catalog.next && catalog.next.last !== next.last ? catalog.next : undefined
  }
  return hits
}

/** Repositories of the registry whose names contain `term`, at most `limit` of them. */
export async function searchCatalog(
  registry: RegistryClient,
  term: string,
  o: CatalogSearchOptions
): Promise<SearchResult[]> {
  let last: unknown = new ImageError(500, `no endpoint for ${o.domain}`)
  for (const [i, endpoint] of o.endpoints.entries()) {
    try {
      return await walk(registry, endpoint, term, o)
    } catch (err) {
      last = err
      if (o.signal?.aborted || !shouldFallback(err, endpoint, o.endpoints[i + 1])) break
    }
  }
  throw searchError(last)
}

/** Registry failures as dockerd reports a failed search: a 500 naming the status. */
function searchError(err: unknown): Error {
  if (err instanceof ImageError) return err
  if (err instanceof RegistryError) {
    const message =
      err.status === undefined
        ? err.dockerText()
        : `unexpected status code ${err.status}: ${err.dockerText()}`
    return new ImageError(500, message, { cause: err })
  }
  return new ImageError(500, err instanceof Error ? err.message : String(err), { cause: err })
}
