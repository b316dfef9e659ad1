/** POST /images/prune: `docker image prune` (API 1.25+). */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { pruneImages } from '../../images/prune.ts'
import type { ApiVersionEnv } from '../api-version.ts'
import type { AppDeps } from '../deps.ts'
import { errorResponse, ImagePruneResponse } from './image-schemas.ts'
import { filtersParam, parseFilters, requireVersion } from './query.ts'

const route = createRoute({
  method: 'post',
  path: '/images/prune',
  operationId: 'ImagePrune',
  tags: ['Image'],
  summary: 'Delete unused images',
  description:
    'No container ever uses an image here, so `dangling=false` deletes every image the ' +
    'filters select; the default deletes only images without tags. One prune at a time.',
  request: {
    query: z.object({
      filters: filtersParam(
        '`dangling=true|false` (default true), `until` (a timestamp or duration), ' +
          '`label=key[=value]`, `label!=key[=value]`',
        '{"dangling":{"false":true},"until":{"24h":true}}'
      ),
    }),
  },
  responses: {
    200: {
      description: 'What was deleted and the bytes freed',
      content: { 'application/json': { schema: ImagePruneResponse } },
    },
    400: errorResponse('Bad filters, or an API version before 1.25'),
    409: errorResponse('Another prune is running'),
    500: errorResponse('Server error'),
  },
})

/** Registers POST /images/prune. */
export function imagesPruneRoute(app: OpenAPIHono<ApiVersionEnv>, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    requireVersion(c.get('apiVersion'), '1.25', 'POST', '/images/prune')
    const report = await pruneImages(deps, parseFilters(c.req.valid('query').filters))
    return c.json(report, 200)
  })
}
