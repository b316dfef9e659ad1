/**
 * POST /images/{name}/push: `docker push`. The name is the repository, fully qualified and
 * without a tag (`docker.io/library/foo`); `tag` picks one tag, none pushes them all. Only a
 * bad name or an unlisted registry are HTTP errors: everything else arrives in the stream
 * after `The push refers to repository` (image-api-notes §6).
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { parseJsonPlatform } from '../../oci/platform.ts'
import { isValidTag, parseNormalizedNamed, type Reference } from '../../oci/reference.ts'
import { pushImage } from '../../push/push.ts'
import { compareVersions } from '../api-version.ts'
import type { AppDeps } from '../deps.ts'
import { EngineError } from '../errors.ts'
import { ndjsonResponse } from './ndjson.ts'
import { pushMessageStream } from './push-message.ts'
import { formValue } from './query.ts'
import { parseRegistryAuth } from './registry-auth.ts'
import { ErrorResponse } from './schemas.ts'

const PushImageInfo = z
  .object({
    status: z.string().optional(),
    progressDetail: z
      .object({ current: z.number().int().optional(), total: z.number().int().optional() })
      .optional(),
    progress: z.string().optional(),
    id: z.string().optional(),
    errorDetail: z.object({ message: z.string() }).optional(),
    error: z.string().optional(),
    aux: z.object({ Tag: z.string(), Digest: z.string(), Size: z.number().int() }).optional(),
  })
  .openapi('PushImageInfo', {
    description: 'One line of the push progress stream (CRLF-separated JSON objects).',
  })

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorResponse } },
})

const route = createRoute({
  method: 'post',
  path: '/images/{name{.+}}/push',
  operationId: 'ImagePush',
  tags: ['Image'],
  summary: 'Push an image',
  description:
    'Pushes local tags of a repository to its registry (never to a mirror; docker.io goes to ' +
    'its configured `endpoint`), asking for a `push,pull` token. Only registries listed in the ' +
    "config are allowed. Layers the repository has are skipped, layers another repository of " +
    'the same registry has are mounted, the rest are uploaded; the stored manifest is pushed ' +
    'byte for byte, so its digest is the one recorded in RepoDigests.',
  request: {
    params: z.object({
      name: z.string().openapi({
        description: 'Repository name without a tag, e.g. `docker.io/library/busybox`',
        example: '127.0.0.1:5000/x/busybox',
      }),
    }),
    query: z.object({
      tag: formValue('The tag to push; absent: every tag'),
      platform: formValue(
        'JSON OCI platform (API ≥ 1.46): push only if the image has it',
        '{"os":"linux","architecture":"amd64"}'
      ),
    }),
    headers: z.object({
      'x-registry-auth': z
        .string()
        .optional()
        .openapi({ description: 'Base64url JSON AuthConfig' }),
    }),
  },
  responses: {
    200: {
      description: 'Progress stream',
      content: { 'application/json': { schema: PushImageInfo } },
    },
    400: error('Bad name, tag or platform'),
    403: error('Registry not allowed by this edgepull'),
    500: error('Server error'),
  },
})

/** Registers POST /images/{name}/push. */
export function imagesPushRoute(app: OpenAPIHono<any>, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid('param')
    const q = c.req.valid('query')
    let ref: Reference
    try {
      ref = parseNormalizedNamed(name)
    } catch (err) {
      throw new EngineError(400, (err as Error).message)
    }
    if (q.tag) {
      if (!isValidTag(q.tag)) throw new EngineError(400, 'invalid tag format')
      ref = { domain: ref.domain, path: ref.path, tag: q.tag }
    }
    let platform
    if (q.platform && compareVersions(c.get('apiVersion'), '1.46') >= 0) {
      try {
        platform = parseJsonPlatform(q.platform)
      } catch (err) {
        throw new EngineError(400, (err as Error).message)
      }
    }
    const abort = new AbortController()
    c.req.raw.signal?.addEventListener('abort', () => abort.abort(), { once: true })
    const events = pushImage(ref, deps, {
      credentials: parseRegistryAuth(c.req.header('x-registry-auth')),
      platform,
      signal: abort.signal,
    })
    const messages = pushMessageStream(events)
    let first
    try {
      first = await messages.next()
    } catch (err) {
      abort.abort()
      throw err
    }
    if (first.done) throw new EngineError(500, 'push ended without output')
    return ndjsonResponse(first.value, messages, () => abort.abort()) as any
  })
}
