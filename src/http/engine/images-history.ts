/** GET /images/{name}/history: `docker history`. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { imageHistory } from '../../images/history.ts'
import type { ApiVersionEnv } from '../api-version.ts'
import type { AppDeps } from '../deps.ts'
import { errorResponse, ImageHistoryResponseItem } from './image-schemas.ts'
import { atLeast, formValue, parsePlatformParam } from './query.ts'

const route = createRoute({
  method: 'get',
  path: '/images/{name{.+}}/history',
  operationId: 'ImageHistory',
  tags: ['Image'],
  summary: 'Get the history of an image',
  description: 'One entry per history entry of the image config, newest first.',
  request: {
    params: z.object({
      name: z.string().openapi({ description: 'Image name, ID or ID prefix', example: 'busybox' }),
    }),
    query: z.object({
      platform: formValue(
        'JSON OCI platform the image must be for (API 1.48+)',
        '{"os":"linux","architecture":"amd64"}'
      ),
    }),
  },
  responses: {
    200: {
      description: 'The history, newest first',
      content: { 'application/json': { schema: z.array(ImageHistoryResponseItem) } },
    },
    400: errorResponse('Invalid name or platform'),
    404: errorResponse('No such image, or not for that platform'),
    500: errorResponse('Server error'),
  },
})

/** Registers GET /images/{name}/history. */
export function imagesHistoryRoute(app: OpenAPIHono<ApiVersionEnv>, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid('param')
    const q = c.req.valid('query')
    const version = c.get('apiVersion')
    const platform = atLeast(version, '1.48') ? parsePlatformParam(q.platform) : undefined
    return c.json(await imageHistory(deps, name, platform), 200)
  })
}
