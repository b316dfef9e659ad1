/**
 * The Hono app: the Docker Engine image API (and, beside it, the /v2 mirror). Runtime
 * entries build `AppDeps` and call `createApp`; nothing here touches a runtime global.
 */
import { OpenAPIHono } from '@hono/zod-openapi'
import { writeAccess } from './access.ts'
import { documentAccess } from './access-docs.ts'
import { apiVersion, stripVersion, type ApiVersionEnv } from './api-version.ts'
import type { AppDeps } from './deps.ts'
import { EDGEPULL_VERSION } from './deps.ts'
import { docsRoutes } from './docs.ts'
import { dockerHeaders } from './docker-headers.ts'
import { commitRoute } from './engine/commit.ts'
import { imagesCreateRoute } from './engine/images-create.ts'
import { imagesDeleteRoute } from './engine/images-delete.ts'
import { imagesGetRoutes } from './engine/images-get.ts'
import { imagesHistoryRoute } from './engine/images-history.ts'
import { imagesInspectRoute } from './engine/images-inspect.ts'
import { imagesLoadRoute } from './engine/images-load.ts'
import { imagesListRoute } from './engine/images-list.ts'
import { imagesPruneRoute } from './engine/images-prune.ts'
import { imagesPushRoute } from './engine/images-push.ts'
import { imagesSearchRoute } from './engine/images-search.ts'
import { imagesTagRoute } from './engine/images-tag.ts'
import { systemRoutes } from './engine/system.ts'
import { engineErrorResponse, onEngineError, pageNotFound } from './errors.ts'
import { rateLimit } from './rate-limit.ts'
import { mirrorApp, mountMirror } from './v2/app.ts'

/** The document's header; `npm run openapi` writes the whole document to openapi/engine.json. */
export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'edgepull Engine API',
    version: EDGEPULL_VERSION,
    license: { name: 'MIT', identifier: 'MIT' },
    description:
      'The Docker Engine image API as served by edgepull, a registry proxy. Every path also ' +
      'answers under a `/v1.NN` prefix (1.24 to 1.51). Errors are `{"message"}` with ' +
      '`Content-Type: application/json`.',
  },
  servers: [{ url: '/', description: 'This edgepull' }],
  // Reads need no credentials (X-Registry-Auth is passed on to registries); the write routes
  // declare the writeToken bearer scheme themselves (access-docs.ts).
  security: [],
}

export function createApp(deps: AppDeps): OpenAPIHono<ApiVersionEnv> {
  const app = new OpenAPIHono<ApiVersionEnv>({
    getPath: stripVersion,
    // zod-openapi's default answer is {"success":false,…}, which the CLI cannot show.
    defaultHook: (result) => {
      if (!result.success) {
        const issue = result.error.issues[0]
        const where = issue?.path.join('.') || 'request'
        return engineErrorResponse(400, `invalid parameter ${where}: ${issue?.message ?? 'invalid'}`)
      }
    },
  })
  // Before anything, so a refused client costs nothing more, on both faces.
  if (deps.rateLimit) app.use('*', rateLimit(deps.rateLimit, deps.clientAddress, deps.trustProxy))
  // First: /v2, /admin and /metrics are the mirror's, outside the Engine API's prefix, headers
  // and errors.
  app.use('*', mountMirror(mirrorApp(deps)))
  app.use('*', dockerHeaders(EDGEPULL_VERSION))
  app.use('*', apiVersion())
  app.use('*', writeAccess(deps.access ?? {}))
  systemRoutes(app, deps.runtime)
  // Literal /images/* routes before the /images/{name} ones (notes §1.7).
  imagesSearchRoute(app, deps)
  imagesListRoute(app, deps)
  imagesPruneRoute(app, deps)
  imagesGetRoutes(app, deps)
  imagesLoadRoute(app, deps)
  imagesCreateRoute(app, deps)
  commitRoute(app, deps)
  imagesPushRoute(app, deps)
  // The /images/{name…} routes match multi-segment names: literal /images/* routes go above.
  imagesInspectRoute(app, deps)
  imagesHistoryRoute(app, deps)
  imagesTagRoute(app, deps)
  imagesDeleteRoute(app, deps)
  documentAccess(app.openAPIRegistry)
  app.doc31('/openapi.json', OPENAPI_DOCUMENT)
  docsRoutes(app, deps.docsAssets)
  // OPTIONS on any path is a CORS preflight in moby: 200, empty.
  app.options('*', () => new Response(null, { status: 200 }))
  app.notFound(pageNotFound)
  app.onError(onEngineError)
  return app
}
