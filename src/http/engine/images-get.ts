/**
 * GET /images/get and GET /images/{name}/get: `docker save`. Names resolve and blobs are
 * checked before the first byte, so those failures are plain JSON errors; once the tar is
 * flowing, a failure is written into it as a JSON error line, as moby does (notes §1.8),
 * which leaves the client with a visibly broken archive.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { resolveSaveNames } from '../../images/save-names.ts'
import { saveArchive } from '../../images/save.ts'
import type { PlatformSpec } from '../../oci/platform.ts'
import type { ApiVersionEnv } from '../api-version.ts'
import type { AppDeps } from '../deps.ts'
import { EngineError } from '../errors.ts'
import { errorResponse } from './image-schemas.ts'
import { errorMessage, line } from './json-message.ts'
import { atLeast, formValues, parsePlatformParam } from './query.ts'

const platformParam = formValues(
  'JSON OCI platform the images must be for (API 1.48+; one value: several need API 1.52)'
)

const tarResponse = {
  description: 'The images as a tar archive (OCI image layout plus manifest.json), streamed',
  content: { 'application/x-tar': { schema: z.string().openapi({ format: 'binary' }) } },
}

const responses = {
  200: tarResponse,
  400: errorResponse('Invalid name or platform'),
  404: errorResponse('No such image or reference'),
  500: errorResponse('Server error'),
}

const getAll = createRoute({
  method: 'get',
  path: '/images/get',
  operationId: 'ImageGetAll',
  tags: ['Image'],
  summary: 'Export several images',
  description:
    'A bare repository name saves all its tags; `name:tag` that tag; an ID or digest the image, untagged.',
  request: {
    query: z.object({
      names: formValues('Image names, IDs or ID prefixes').openapi({ example: ['busybox'] }),
      platform: platformParam,
    }),
  },
  responses,
})

const getOne = createRoute({
  method: 'get',
  // {name{.+}}: names hold slashes (notes §1.7); the document shows {name}.
  path: '/images/{name{.+}}/get',
  operationId: 'ImageGet',
  tags: ['Image'],
  summary: 'Export an image',
  request: {
    params: z.object({
      name: z.string().openapi({ description: 'Image name, ID or ID prefix', example: 'busybox' }),
    }),
    query: z.object({ platform: platformParam }),
  },
  responses,
})

/** Registers both save routes; `/images/get` must be registered before other `{name}` routes. */
export function imagesGetRoutes(app: OpenAPIHono<ApiVersionEnv>, deps: AppDeps): void {
  app.openapi(getAll, async (c) => {
    const q = c.req.valid('query')
    return save(deps, q.names ?? [], platformOf(c.get('apiVersion'), q.platform)) as any
  })
  app.openapi(getOne, async (c) => {
    const q = c.req.valid('query')
    return save(deps, [c.req.valid('param').name], platformOf(c.get('apiVersion'), q.platform)) as any
  })
}

/** The `platform` of get and load: JSON, from 1.48, one value before 1.52. */
export function platformOf(version: string, values: string[] | undefined): PlatformSpec | undefined {
  if (!values?.length || !atLeast(version, '1.48')) return undefined
  if (values.length > 1) {
    throw new EngineError(
      400,
      'multiple platform parameters are not supported in this API version; use API version 1.52 or later'
    )
  }
  return parsePlatformParam(values[0])
}

async function save(deps: AppDeps, names: string[], platform?: PlatformSpec): Promise<Response> {
  const selected = await resolveSaveNames(deps.images, names, platform)
  const tar = (await saveArchive(deps.blobs, selected)).getReader()
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await tar.read()
          if (done) controller.close()
          else controller.enqueue(value)
        } catch (err) {
          const text = line(errorMessage(err instanceof Error ? err.message : String(err)))
          controller.enqueue(new TextEncoder().encode(text))
          controller.close()
        }
      },
      cancel: (reason) => tar.cancel(reason),
    },
    { highWaterMark: 0 }
  )
  return new Response(body, { headers: { 'content-type': 'application/x-tar' } })
}
