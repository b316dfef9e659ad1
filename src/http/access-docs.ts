/**
 * The OpenAPI side of access.ts and rate-limit.ts, applied in one place once the routes are
 * registered (so no route file repeats it): the write routes (POST and DELETE) declare the
 * `writeToken` bearer scheme with their 401 and 403 answers, and every route the 429 of the
 * optional rate limit. A status a route already documents keeps its description, extended.
 */
import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi'
import { isEngineWrite } from './access.ts'
import { ErrorResponse } from './engine/schemas.ts'

export const WRITE_TOKEN_SCHEME = 'writeToken'

type Registry = OpenAPIHono['openAPIRegistry']
type Responses = RouteConfig['responses']

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorResponse } },
})

// 403, not 401, for a bad token: on a 401 the docker CLI prompts for a registry login.
const WRITE_RESPONSES: Responses = {
  403: error(
    'The write token is missing or wrong (when the config sets `writeToken`); read-only mode ' +
      '(`edgepull is read-only`); or listening beyond loopback without a `writeToken`'
  ),
}

const RATE_LIMITED = {
  ...error('Too many requests from this client (the config\'s `rateLimit`)'),
  headers: {
    'Retry-After': { description: 'Seconds until a request is accepted again', schema: { type: 'integer' as const } },
  },
}

/** `extra` over `responses`; where both name a status, both descriptions are kept. */
function merged(responses: Responses, extra: Responses): Responses {
  const out: Responses = { ...responses }
  for (const [status, response] of Object.entries(extra)) {
    const had = out[status] as { description?: string } | undefined
    out[status] = had?.description
      ? { ...had, description: `${had.description}; or: ${(response as { description: string }).description}` }
      : response
  }
  return out
}

/** Declares the write token and the rate limit on the routes registered so far. */
export function documentAccess(registry: Registry): void {
  registry.registerComponent('securitySchemes', WRITE_TOKEN_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description:
      'The config\'s `writeToken`, required by write routes when set, and always when ' +
      'edgepull listens beyond loopback. The docker CLI sends it from config.json: ' +
      '`{"HttpHeaders": {"Authorization": "Bearer <token>"}}`.',
  })
  for (const def of registry.definitions) {
    if (def.type !== 'route') continue
    const route = def.route
    const write = isEngineWrite(route.method.toUpperCase())
    const responses = merged(route.responses, { ...(write ? WRITE_RESPONSES : {}), 429: RATE_LIMITED })
    def.route = write ? { ...route, responses, security: [{ [WRITE_TOKEN_SCHEME]: [] }] } : { ...route, responses }
  }
}
