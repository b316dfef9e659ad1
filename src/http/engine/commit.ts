/**
 * POST /commit: `docker commit`, where edgepull (which runs no containers) reads `container`
 * as the name of a source image. 201 `{"Id"}`, as moby's postCommit answers.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { changeList } from '../../images/changes.ts'
import { commitImage } from '../../images/commit.ts'
import { resolveImage } from '../../images/resolve.ts'
import { repoTagReference, tagImage } from '../../images/tag.ts'
import type { AppDeps } from '../deps.ts'
import { jsonBodyLimit, limitsOf } from './body-limit.ts'
import { formValue } from './query.ts'
import { ErrorResponse } from './schemas.ts'

const strings = z.array(z.string()).nullish()
const set = z.record(z.string(), z.object({})).nullish()

const ContainerConfig = z
  .looseObject({
    User: z.string().optional(),
    ExposedPorts: set,
    Env: strings,
    Cmd: strings,
    Entrypoint: strings,
    Volumes: set,
    WorkingDir: z.string().optional(),
    Labels: z.record(z.string(), z.string()).nullish(),
    StopSignal: z.string().optional(),
    OnBuild: strings,
    Shell: strings,
  })
  .openapi('ContainerConfig', {
    description:
      'Overrides for the new image config; fields left empty are taken from the source image. ' +
      'Container-only fields (Hostname, Tty, …) are accepted and ignored.',
  })

const IdResponse = z.object({ Id: z.string() }).openapi('IDResponse')

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorResponse } },
})

const route = createRoute({
  method: 'post',
  path: '/commit',
  operationId: 'ImageCommit',
  tags: ['Image'],
  summary: 'Create a new image from an image (edgepull: `container` names an image)',
  description:
    'edgepull runs no containers, so **`container` names a source image** (an ID, ID prefix, ' +
    'reference or digest reference). The new image keeps the source layers and gets the source ' +
    'config changed by the request body (a ContainerConfig) and `changes` (Dockerfile ' +
    'instructions: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, ' +
    'WORKDIR), plus an empty-layer history entry with `author` and `comment`. A new manifest is ' +
    'written, so the image can be pushed and saved. `pause` is accepted and ignored.',
  request: {
    query: z.object({
      container: formValue('The source image (edgepull has no containers)', 'busybox'),
      repo: formValue('The repository of the new image', 'docker.io/library/myrepo'),
      tag: formValue('Its tag', 'v1'),
      comment: formValue('The history comment'),
      author: formValue('The author'),
      pause: formValue('Ignored: there is nothing to pause'),
      changes: z
        .union([z.string(), z.array(z.string())])
        .optional()
        .openapi({ description: 'Dockerfile instructions, repeatable', example: 'ENV A=1' }),
    }),
    body: { required: false, content: { 'application/json': { schema: ContainerConfig } } },
  },
  responses: {
    201: { description: 'The new image', content: { 'application/json': { schema: IdResponse } } },
    400: error('Bad parameter or change'),
    404: error('No such image'),
    413: error('A body beyond `limits.jsonBytes`'),
    500: error('Server error'),
  },
})

/** Registers POST /commit. */
export function commitRoute(app: OpenAPIHono<any>, deps: AppDeps): void {
  app.use('/commit', jsonBodyLimit(limitsOf(deps).jsonBytes))
  app.openapi(route, async (c) => {
    const q = c.req.valid('query')
    const body = c.req.valid('json') as Record<string, unknown>
    const ref = repoTagReference(q.repo, q.tag)
    const { image } = await resolveImage(deps.images, q.container ?? '')
    const record = await commitImage(deps, image, {
      config: Object.keys(body).length > 0 ? body : null,
      changes: changeList(q.changes),
      author: q.author,
      comment: q.comment,
    })
    if (ref) await tagImage(deps.images, record.id, ref)
    return c.json({ Id: record.id }, 201)
  })
}
