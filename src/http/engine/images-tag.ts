/** POST /images/{name}/tag: `docker tag`. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { repoTagReference, tagImage } from '../../images/tag.ts'
import type { ApiVersionEnv } from '../api-version.ts'
import type { AppDeps } from '../deps.ts'
import { errorResponse } from './image-schemas.ts'
import { formValue } from './query.ts'

const route = createRoute({
  method: 'post',
  path: '/images/{name{.+}}/tag',
  operationId: 'ImageTag',
  tags: ['Image'],
  summary: 'Tag an image',
  description:
    'Points `repo:tag` at the image, moving the tag if it pointed elsewhere, and sets the ' +
    "image's Metadata.LastTagTime. Without `repo` nothing happens (200, as in dockerd).",
  request: {
    params: z.object({
      name: z.string().openapi({ description: 'Image name, ID or ID prefix', example: 'busybox' }),
    }),
    query: z.object({
      repo: formValue('The repository to tag in (may carry a tag)', 'docker.io/myrepo/busybox'),
      tag: formValue('The tag; `latest` when empty', 'v1'),
    }),
  },
  responses: {
    201: { description: 'Tagged' },
    200: { description: 'No `repo`: nothing done' },
    400: errorResponse('Invalid repository or tag'),
    404: errorResponse('No such image'),
    500: errorResponse('Server error'),
  },
})

/** Registers POST /images/{name}/tag. */
export function imagesTagRoute(app: OpenAPIHono<ApiVersionEnv>, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid('param')
    const q = c.req.valid('query')
    const ref = repoTagReference(q.repo, q.tag)
    // moby returns InvalidParameter(nil), i.e. nothing, for an empty repo: a bare 200.
    if (!ref) return c.body(null, 200)
    await tagImage(deps.images, name, ref)
    return c.body(null, 201)
  })
}
