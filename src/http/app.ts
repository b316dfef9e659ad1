/**
 * The Hono app: the Docker Engine image API (and, beside it, the /v2 mirror). Runtime
 * entries build `AppDeps` and call `createApp`; nothing here touches a runtime global.
 */
import { OpenAPIHono } from '@hono/zod-openapi'
import { apiVersion, stripVersion, type ApiVersionEnv } from './api-version.ts'
import type { AppDeps } from './deps.ts'
import { EDGEPULL_VERSION } from './deps.ts'
import { dockerHeaders } from './docker-headers.ts'
import { imagesCreateRoute } from './engine/images-create.ts'
import { systemRoutes } from './engine/system.ts'
import { engineErrorResponse, onEngineError, pageNotFound } from './errors.ts'

/** The document's header; `npm run openapi` writes the whole document to openapi/engine.json. */
export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'edgepull Engine API',
    version: EDGEPULL_VERSION,
    description:
      'The Docker Engine image API as served by edgepull, a registry proxy. Every path also ' +
      'answers under a `/v1.NN` prefix (1.24 to 1.51). Errors are `{"message"}` with ' +
      '`Content-Type: application/json`.',
  },
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
  app.use('*', dockerHeaders(EDGEPULL_VERSION))
  app.use('*', apiVersion())
  systemRoutes(app, deps.runtime)
  imagesCreateRoute(app, deps)
  app.doc31('/openapi.json', OPENAPI_DOCUMENT)
  // OPTIONS on any path is a CORS preflight in moby: 200, empty.
  app.options('*', () => new Response(null, { status: 200 }))
  app.notFound(pageNotFound)
  app.onError(onEngineError)
  return app
}
