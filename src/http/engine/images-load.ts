/**
 * POST /images/load: `docker load`. The body is a tar (plain or gzip) read as it arrives.
 * Unlike every other route, errors always travel in the stream with HTTP 200, even before
 * anything was written (notes §1.8); only a bad `platform` is a 400. `quiet` defaults to
 * true when absent (notes §10.8), and the Content-Type is exactly `application/json`, the
 * only one the CLI renders as messages.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { loadImages, type LoadEvent } from '../../images/load.ts'
import { shortId } from '../../oci/digest.ts'
import type { ApiVersionEnv } from '../api-version.ts'
import type { AppDeps } from '../deps.ts'
import { inflateLimits, limitedBody, limitsOf } from './body-limit.ts'
import { errorResponse } from './image-schemas.ts'
import { platformOf } from './images-get.ts'
import { errorMessage, layerMessage, line, type JsonMessage } from './json-message.ts'
import { dockerBoolOr, formBool, formValues } from './query.ts'

const LoadMessage = z
  .object({
    stream: z.string().optional().openapi({ example: 'Loaded image: busybox:latest\n' }),
    status: z.string().optional(),
    progressDetail: z.object({ current: z.number().int(), total: z.number().int() }).partial().optional(),
    progress: z.string().optional(),
    id: z.string().optional(),
    errorDetail: z.object({ message: z.string() }).optional(),
    error: z.string().optional(),
  })
  .openapi('ImageLoadMessage', { description: 'One line of the load stream (CRLF separated).' })

const route = createRoute({
  method: 'post',
  path: '/images/load',
  operationId: 'ImageLoad',
  tags: ['Image'],
  summary: 'Import images from a `docker save` archive',
  description:
    'Reads docker save archives (docker 25+ OCI layout with manifest.json, the older ' +
    '`<id>/layer.tar` layout, or an OCI layout with only index.json), plain or gzip. Every ' +
    'layer is checked against the DiffIDs of its config; a failed load leaves nothing behind.',
  request: {
    query: z.object({
      quiet: formBool('Suppress the per-layer progress lines; true when absent'),
      platform: formValues('JSON OCI platform: load only images for it (API 1.48+)'),
    }),
    body: {
      required: false,
      content: { 'application/x-tar': { schema: z.string().openapi({ format: 'binary' }) } },
    },
  },
  responses: {
    200: {
      description: 'Progress and result lines; errors are in the stream too',
      content: { 'application/json': { schema: LoadMessage } },
    },
    400: errorResponse('Invalid platform'),
    413: errorResponse('Content-Length beyond `limits.bodyBytes` (a longer body fails in the stream)'),
  },
})

/** Registers POST /images/load. */
export function imagesLoadRoute(app: OpenAPIHono<ApiVersionEnv>, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid('query')
    const platform = platformOf(c.get('apiVersion'), q.platform)
    const quiet = dockerBoolOr(q.quiet, true)
    const abort = new AbortController()
    c.req.raw.signal?.addEventListener('abort', () => abort.abort(), { once: true })
    const limits = limitsOf(deps)
    const input =
      limitedBody(c.req.raw, limits.bodyBytes) ??
      new ReadableStream<Uint8Array>({ start: (s) => s.close() })
    const enc = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        let messages: JsonMessage[]
        try {
          const events = await loadImages(input, deps, {
            platform,
            quiet,
            signal: abort.signal,
            limits: inflateLimits(limits),
          })
          messages = events.map(toMessage)
        } catch (err) {
          messages = [errorMessage(err instanceof Error ? err.message : String(err))]
        }
        if (abort.signal.aborted) return
        for (const m of messages) controller.enqueue(enc.encode(line(m)))
        controller.close()
      },
      cancel: () => abort.abort(),
    })
    return new Response(body, { headers: { 'content-type': 'application/json' } }) as any
  })
}

function toMessage(e: LoadEvent): JsonMessage {
  if (e.type === 'stream') return { stream: e.text }
  return layerMessage(shortId(e.diffId), 'Loading layer', e.size, e.size)
}
