/** DELETE /images/{name}: `docker rmi`. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { deleteImage } from '../../images/delete.ts'
import type { ApiVersionEnv } from '../api-version.ts'
import type { AppDeps } from '../deps.ts'
import { EngineError } from '../errors.ts'
import { errorResponse, ImageDeleteResponseItem } from './image-schemas.ts'
import { atLeast, dockerBool, formBool, formValues, parsePlatformParam } from './query.ts'

const route = createRoute({
  method: 'delete',
  path: '/images/{name{.+}}',
  operationId: 'ImageDelete',
  tags: ['Image'],
  summary: 'Remove an image',
  description:
    'By reference: untags it (and its repository digests with its last tag), deleting the ' +
    'image once nothing references it. By ID: deletes the image, refusing (409) when it is ' +
    'referenced from several repositories unless `force`. Blobs no other image holds and the ' +
    'mirror does not link are freed.',
  request: {
    params: z.object({
      name: z.string().openapi({ description: 'Image name, ID or ID prefix', example: 'busybox' }),
    }),
    query: z.object({
      force: formBool('Delete even when referenced from several repositories'),
      noprune: formBool('Keep untagged parents (pulled images have none)'),
      platforms: formValues('JSON OCI platform the image must be for (API 1.50+; at most one)'),
    }),
  },
  responses: {
    200: {
      description: 'What was untagged and deleted, in order',
      content: { 'application/json': { schema: z.array(ImageDeleteResponseItem) } },
    },
    400: errorResponse('Blank or invalid name, or bad platforms'),
    404: errorResponse('No such image'),
    409: errorResponse('Conflict: the image is referenced from several repositories'),
    500: errorResponse('Server error'),
  },
})

/** Registers DELETE /images/{name}. */
export function imagesDeleteRoute(app: OpenAPIHono<ApiVersionEnv>, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid('param')
    const q = c.req.valid('query')
    if (name.trim() === '') throw new EngineError(400, 'image name cannot be blank')
    const platforms = atLeast(c.get('apiVersion'), '1.50')
      ? (q.platforms ?? []).map(parsePlatformParam).filter((p) => p !== undefined)
      : []
    if (platforms.length > 1) throw new EngineError(400, 'multiple platforms are not supported')
    const { items } = await deleteImage(deps, name, {
      force: dockerBool(q.force),
      platform: platforms[0],
    })
    return c.json(items, 200)
  })
}
