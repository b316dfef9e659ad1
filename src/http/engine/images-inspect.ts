/** GET /images/{name}/json: `docker image inspect`, shaped by the request's API version. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { inspectImage, inspectResponse, type Shape } from '../../images/inspect.ts'
import type { ApiVersionEnv } from '../api-version.ts'
import type { AppDeps } from '../deps.ts'
import { EngineError } from '../errors.ts'
import { errorResponse, ImageInspect } from './image-schemas.ts'
import { atLeast, dockerBool, formBool, formValue, parsePlatformParam } from './query.ts'

const route = createRoute({
  method: 'get',
  // {name{.+}}: names hold slashes (notes §1.7); the document shows {name}.
  path: '/images/{name{.+}}/json',
  operationId: 'ImageInspect',
  tags: ['Image'],
  summary: 'Inspect an image',
  request: {
    params: z.object({
      name: z.string().openapi({ description: 'Image name, ID or ID prefix', example: 'busybox' }),
    }),
    query: z.object({
      manifests: formBool('Ignored (API 1.48+): only the containerd image store has Manifests'),
      platform: formValue(
        'JSON OCI platform the image must be for (API 1.49+)',
        '{"os":"linux","architecture":"amd64"}'
      ),
    }),
  },
  responses: {
    200: { description: 'The image', content: { 'application/json': { schema: ImageInspect } } },
    400: errorResponse('Invalid name or platform, or both manifests and platform'),
    404: errorResponse('No such image, or not for that platform'),
    500: errorResponse('Server error'),
  },
})

/** Registers GET /images/{name}/json. */
export function imagesInspectRoute(app: OpenAPIHono<ApiVersionEnv>, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid('param')
    const q = c.req.valid('query')
    const version = c.get('apiVersion')
    const manifests = !!q.manifests && atLeast(version, '1.48') && dockerBool(q.manifests)
    const platform = atLeast(version, '1.49') ? parsePlatformParam(q.platform) : undefined
    if (manifests && platform) {
      const msg = 'conflicting options: manifests and platform options cannot both be set'
      throw new EngineError(400, msg)
    }
    const data = await inspectImage(deps, name, platform)
    return c.json(inspectResponse(data, shapeFor(version)) as any, 200)
  })
}

function shapeFor(version: string): Shape {
  return {
    legacyConfig: atLeast(version, '1.50') ? 'v1.50' : 'v1.49',
    containerFields: !atLeast(version, '1.45'),
    virtualSize: !atLeast(version, '1.44'),
  }
}
