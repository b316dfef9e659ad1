/**
 * POST /images/create: pull when `fromImage` is set. The manifest is resolved before the
 * response starts, so "not found", "denied" and friends are HTTP errors with a status;
 * once `Pulling from` is out, errors travel in the stream (image-api-notes §1.8, §5).
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { parsePlatform } from '../../oci/platform.ts'
import { InvalidReferenceError, pullReference, ReservedNameError } from '../../oci/reference.ts'
import { PullError } from '../../pull/errors.ts'
import { pullImage } from '../../pull/pull.ts'
import type { AppDeps } from '../deps.ts'
import { EngineError } from '../errors.ts'
import { pullMessage } from './json-message.ts'
import { mapMessages, ndjsonResponse } from './ndjson.ts'
import { importResponse } from './images-import.ts'
import { formValue } from './query.ts'
import { parseRegistryAuth } from './registry-auth.ts'
import { CreateImageInfo, ErrorResponse } from './schemas.ts'

const route = createRoute({
  method: 'post',
  path: '/images/create',
  operationId: 'ImageCreate',
  tags: ['Image'],
  summary: 'Create an image by pulling it from a registry or importing a tar',
  description:
    'Pulls `fromImage` (with `tag`, which may be a digest) through the configured endpoints ' +
    '(mirrors first for docker.io), storing verified layers. Progress streams as Docker JSON ' +
    'messages.\n\nWithout `fromImage`, imports `fromSrc`: `-` reads a root file system tar ' +
    '(plain or gzip) from the body, a URL downloads it (only from hosts listed in the ' +
    "config's registries). The result is a one-layer image tagged `repo` (which may carry " +
    'the tag) and `tag`, its config set by `changes` (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ' +
    'ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR), `message` and `platform`; the stream ends ' +
    'with `{"status":"sha256:<image id>"}`.',
  request: {
    query: z.object({
      fromImage: formValue('The image to pull', 'docker.io/library/busybox'),
      tag: formValue('A tag, or a digest'),
      platform: formValue('os/arch[/variant]', 'linux/arm64/v8'),
      fromSrc: formValue('`-` (the body) or a URL to import'),
      repo: formValue('Import: repository, may carry the tag', 'myimg:v2'),
      message: formValue('Import: comment (default `Imported from <fromSrc>`)'),
      changes: z
        .union([z.string(), z.array(z.string())])
        .optional()
        .openapi({ description: 'Import: Dockerfile instructions', example: 'CMD ["sh"]' }),
    }),
    headers: z.object({ 'x-registry-auth': z.string().optional() }),
    body: {
      required: false,
      description: 'Import with `fromSrc=-`: the tar, plain or gzip (the CLI says text/plain)',
      content: { 'application/x-tar': { schema: z.string().openapi({ format: 'binary' }) } },
    },
  },
  responses: {
    200: { description: 'Progress stream', content: { 'application/json': { schema: CreateImageInfo } } },
    400: { description: 'Bad parameter', content: { 'application/json': { schema: ErrorResponse } } },
    401: { description: 'Registry refused the credentials', content: { 'application/json': { schema: ErrorResponse } } },
    403: { description: 'Reserved name', content: { 'application/json': { schema: ErrorResponse } } },
    404: { description: 'Image or repository not found', content: { 'application/json': { schema: ErrorResponse } } },
    413: { description: 'Import: a body beyond `limits.bodyBytes`, or a gzip body unpacking beyond the limits', content: { 'application/json': { schema: ErrorResponse } } },
    429: { description: 'Upstream rate limit', content: { 'application/json': { schema: ErrorResponse } } },
    500: { description: 'Server error', content: { 'application/json': { schema: ErrorResponse } } },
    501: { description: 'Not supported', content: { 'application/json': { schema: ErrorResponse } } },
  },
})

export function imagesCreateRoute(app: OpenAPIHono<any>, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid('query')
    if (!q.fromImage) {
      if (q.fromSrc === undefined) {
        throw new EngineError(400, 'either fromImage or fromSrc is required')
      }
      return (await importResponse(c.req.raw, deps, { ...q, fromSrc: q.fromSrc })) as any
    }
    let ref
    try {
      ref = pullReference(q.fromImage, q.tag)
    } catch (err) {
      if (err instanceof ReservedNameError) throw new EngineError(403, err.message)
      if (err instanceof InvalidReferenceError || err instanceof Error) throw new EngineError(400, err.message)
      throw err
    }
    let platform
    if (q.platform) {
      try {
        platform = parsePlatform(q.platform)
      } catch (err) {
        throw new EngineError(400, (err as Error).message)
      }
    }
    const abort = new AbortController()
    c.req.raw.signal?.addEventListener('abort', () => abort.abort(), { once: true })
    const events = pullImage(ref, deps, {
      platform,
      credentials: parseRegistryAuth(c.req.header('x-registry-auth')),
      signal: abort.signal,
    })
    let first
    try {
      first = await events.next()
    } catch (err) {
      abort.abort()
      if (err instanceof PullError) throw new EngineError(err.status as any, err.message, { cause: err })
      throw err
    }
    if (first.done) throw new EngineError(500, 'pull ended without output')
    return ndjsonResponse(pullMessage(first.value), mapMessages(events, pullMessage), () => abort.abort()) as any
  })
}
