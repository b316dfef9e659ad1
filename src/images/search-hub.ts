/**
 * Docker Hub's search API, called as dockerd's v1 session does: `GET <index>/v1/search?q=&n=`
 * with `X-Docker-Token: true`, Basic credentials when a username is known, X-Meta-* passed on.
 */
import { basicAuthorization, type Credentials } from '../registry/auth/credentials.ts'
import type { Fetch } from '../registry/fetch.ts'
import { ImageError } from './errors.ts'

/** Where dockerd searches Docker Hub. */
export const HUB_INDEX = 'https://index.docker.io'

/** One search hit, with Docker's ImageSearchResponseItem field names. */
export interface SearchResult {
  star_count: number
  is_official: boolean
  name: string
  is_automated: boolean
  description: string
}

/** What a Hub search sends besides the term. */
export interface HubSearchOptions {
  limit: number
  credentials?: Credentials
  /** Extra request headers (the client's X-Meta-*). */
  headers?: Record<string, string>
  signal?: AbortSignal
}

/** Hub's result rows → ImageSearchResponseItem; rows without a name are dropped. */
export function hubResults(json: unknown): SearchResult[] {
  const rows = (json as { results?: unknown } | null)?.results
  if (!Array.isArray(rows)) return []
  const out: SearchResult[] = []
  for (const row of rows) {
    const r = (row ?? {}) as Record<string, unknown>
    if (typeof r.name !== 'string' || !r.name) continue
    out.push({
      star_count: typeof r.star_count === 'number' ? r.star_count : 0,
      is_official: r.is_official === true,
      name: r.name,
      // Deprecated on Hub and untrustworthy there: dockerd forces it to false.
      is_automated: false,
      description: typeof r.description === 'string' ? r.description : '',
    })
  }
  return out
}

/** Searches Docker Hub for `term` (already stripped of `library/`). */
export async function searchHub(
  fetch: Fetch,
  term: string,
  o: HubSearchOptions
): Promise<SearchResult[]> {
  const url = new URL('/v1/search', HUB_INDEX)
  url.searchParams.set('q', term)
  url.searchParams.set('n', String(o.limit))
  const headers = new Headers(o.headers)
  headers.set('accept', 'application/json')
  headers.set('x-docker-token', 'true')
  // dockerd's v1 auth transport; a token-only login (identitytoken) searches anonymously here.
  const authorization = o.credentials?.password ? basicAuthorization(o.credentials) : undefined
  if (authorization) headers.set('authorization', authorization)
  let res: Response
  try {
    res = await fetch(new Request(url, { headers, signal: o.signal }))
  } catch (err) {
    throw new ImageError(500, `Get "${url}": ${(err as Error).message}`, { cause: err })
  }
  if (res.status !== 200) {
    await res.body?.cancel()
    throw new ImageError(500, `unexpected status code ${res.status}`)
  }
  let json: unknown
  try {
    json = await res.json()
  } catch (err) {
    throw new ImageError(500, `error decoding registry search results: ${(err as Error).message}`)
  }
  return hubResults(json)
}
