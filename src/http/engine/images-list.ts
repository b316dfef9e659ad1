/** GET /images/json: `docker images`. The service lists; this shapes the list per API version. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { listImages, type Summary } from '../../images/summary.ts'
import type { ApiVersionEnv } from '../api-version.ts'
import type { AppDeps } from '../deps.ts'
import { errorResponse, ImageSummary } from './image-schemas.ts'
import { atLeast, dockerBool, filtersParam, formBool, formValue, parseFilters } from './query.ts'

const route = createRoute({
  method: 'get',
  path: '/images/json',
  operationId: 'ImageList',
  tags: ['Image'],
  summary: 'List images',
  description:
    'The images in the store, newest first. With a `reference` filter, RepoTags and ' +
    'RepoDigests hold only the references that matched.',
  request: {
    query: z.object({
      all: formBool('Also intermediate images (there are none here)'),
      filters: filtersParam(
        '`before`, `since` (an image), `dangling=true|false`, `label=key[=value]`, `reference` ' +
          '(a glob over the familiar and full names), `until` (a timestamp or duration)',
        '{"reference":{"busybox":true}}'
      ),
      'shared-size': formBool('Compute SharedSize (API 1.42+)'),
      digests: formBool('Ignored, as by dockerd: RepoDigests are always there'),
      manifests: formBool('Ignored: only the containerd image store fills Manifests'),
      filter: formValue('Before API 1.25: a reference glob'),
    }),
  },
  responses: {
    200: {
      description: 'The images',
      content: { 'application/json': { schema: z.array(ImageSummary) } },
    },
    400: errorResponse('Bad filters'),
    404: errorResponse('The image named by `before` or `since` does not exist'),
    500: errorResponse('Server error'),
  },
})

/** Registers GET /images/json. */
export function imagesListRoute(app: OpenAPIHono<ApiVersionEnv>, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid('query')
    const version = c.get('apiVersion')
    const filters = parseFilters(q.filters)
    if (!atLeast(version, '1.25') && q.filter && !filters.has('reference')) {
      filters.add('reference', q.filter)
    }
    const sharedSize = atLeast(version, '1.42') && dockerBool(q['shared-size'])
    const images = await listImages(deps, { filters, sharedSize })
    return c.json(images.map((s) => shape(s, version)) as any, 200)
  })
}

/** The router's per-version touches on each summary. */
function shape(s: Summary, version: string): Record<string, unknown> {
  let { RepoTags, RepoDigests } = s
  if (!atLeast(version, '1.43')) {
    if (!RepoTags && !RepoDigests) [RepoTags, RepoDigests] = [['<none>:<none>'], ['<none>@<none>']]
  } else {
    RepoTags ??= []
    RepoDigests ??= []
  }
  return {
    ...s,
    Containers: atLeast(version, '1.51') ? s.Containers : -1,
    RepoDigests,
    RepoTags,
    ...(!atLeast(version, '1.44') && { VirtualSize: s.Size }),
  }
}
