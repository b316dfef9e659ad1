/**
 * GET /images/search: `docker search`. Docker Hub through its search API, other registries
 * (and docker.io pointed at a plain registry) through their catalogs (src/images/search.ts).
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { ImageError } from '../../images/errors.ts'
import { parseSearchFilters } from '../../images/search-filters.ts'
import { searchImages } from '../../images/search.ts'
import type { AppDeps } from '../deps.ts'
import { formValue, requiredFormValue } from './query.ts'
import { parseRegistryAuth } from './registry-auth.ts'
import { ErrorResponse } from './schemas.ts'

const ImageSearchResponseItem = z
  .object({
    star_count: z.number().int(),
    is_official: z.boolean(),
    name: z.string(),
    is_automated: z.boolean().openapi({ description: 'Deprecated; always false.' }),
    description: z.string(),
  })
  .openapi('ImageSearchResponseItem')

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorResponse } },
})

const route = createRoute({
  method: 'get',
  path: '/images/search',
  operationId: 'ImageSearch',
  tags: ['Image'],
  summary: 'Search images',
  description:
    'Searches Docker Hub through its search API. A term starting with a configured registry ' +
    '(`127.0.0.1:5000/foo`), or docker.io configured with an `endpoint`, searches that ' +
    "registry's catalog for repository names containing the rest of the term.",
  request: {
    query: z.object({
      term: requiredFormValue('Term to search', 'busybox'),
      limit: formValue('Maximum number of results, 1 to 100 (default 25)').openapi({
        type: 'integer',
      }),
      filters: formValue(
        'JSON map of filters: `is-official=(true|false)`, `is-automated=(true|false)` ' +
          '(true finds nothing), `stars=<number>` (at least that many stars)',
        '{"is-official":{"true":true}}'
      ),
    }),
    headers: z.object({
      'x-registry-auth': z.string().optional().openapi({ description: 'Base64url JSON AuthConfig' }),
    }),
  },
  responses: {
    200: {
      description: 'Results, unsorted',
      content: { 'application/json': { schema: z.array(ImageSearchResponseItem) } },
    },
    400: error('Bad term, limit or filters'),
    403: error('Registry not allowed by this edgepull'),
    500: error('Server or upstream error'),
  },
})

/** moby's getImagesSearch: `limit` must be a non-negative decimal; 0 means the default. */
function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0
  const n = /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN
  if (!Number.isSafeInteger(n) || n < 0) throw new ImageError(400, 'invalid limit specified')
  return n
}

/** X-Meta-* request headers, which dockerd passes on to the index. */
function metaHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  headers.forEach((value, key) => {
    if (key.startsWith('x-meta-')) out[key] = value
  })
  return out
}

/** Registers GET /images/search; must come before the `/images/{name}` routes. */
export function imagesSearchRoute(app: OpenAPIHono<any>, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid('query')
    const limit = parseLimit(q.limit)
    const filters = parseSearchFilters(q.filters)
    const results = await searchImages(q.term, deps, {
      limit,
      filters,
      credentials: parseRegistryAuth(c.req.header('x-registry-auth')),
      headers: metaHeaders(c.req.raw.headers),
      signal: c.req.raw.signal,
    })
    return c.json(results, 200)
  })
}
