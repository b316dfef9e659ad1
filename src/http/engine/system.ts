/** `/_ping` and `/version`: what the docker CLI negotiates with before any image command. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { MAX_API_VERSION, MIN_API_VERSION } from '../api-version.ts'
import { EDGEPULL_VERSION, type RuntimeInfo } from '../deps.ts'
import { ErrorResponse } from './schemas.ts'

const ping = createRoute({
  method: 'get',
  path: '/_ping',
  operationId: 'SystemPing',
  tags: ['System'],
  summary: 'Ping (GET and HEAD)',
  description: 'Answers `OK` with the `Api-Version` header the docker CLI negotiates from.',
  responses: {
    200: { description: 'OK', content: { 'text/plain': { schema: z.string() } } },
    400: { description: 'API version prefix out of range', content: { 'application/json': { schema: ErrorResponse } } },
  },
})

const SystemVersion = z
  .object({
    Platform: z.object({ Name: z.string() }),
    Components: z.array(
      z.object({ Name: z.string(), Version: z.string(), Details: z.record(z.string(), z.string()) })
    ),
    Version: z.string(),
    ApiVersion: z.string(),
    MinAPIVersion: z.string(),
    GitCommit: z.string(),
    GoVersion: z.string(),
    Os: z.string(),
    Arch: z.string(),
    KernelVersion: z.string(),
    BuildTime: z.string(),
  })
  .openapi('SystemVersion')

const version = createRoute({
  method: 'get',
  path: '/version',
  operationId: 'SystemVersion',
  tags: ['System'],
  summary: 'Version',
  responses: {
    200: { description: 'Server version', content: { 'application/json': { schema: SystemVersion } } },
    400: { description: 'API version prefix out of range', content: { 'application/json': { schema: ErrorResponse } } },
  },
})

const BUILD_TIME = '2026-11-28T00:00:00.000000000Z'

export function systemRoutes(app: OpenAPIHono<any>, runtime: RuntimeInfo): void {
  // Hono answers HEAD through the GET handler, so the ping headers live here (notes §1.3).
  app.openapi(ping, () => {
    return new Response('OK', {
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'Builder-Version': '1',
        Swarm: 'inactive',
        'Cache-Control': 'no-cache, no-store, must-revalidate',
        Pragma: 'no-cache',
      },
    }) as any
  })
  app.openapi(version, (c) =>
    c.json({
      Platform: { Name: 'edgepull' },
      Components: [
        {
          Name: 'Engine',
          Version: EDGEPULL_VERSION,
          Details: { ApiVersion: MAX_API_VERSION, MinAPIVersion: MIN_API_VERSION, Runtime: runtime.name },
        },
      ],
      Version: EDGEPULL_VERSION,
      ApiVersion: MAX_API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: 'edgepull',
      GoVersion: `${runtime.name} ${runtime.version}`,
      Os: runtime.os,
      Arch: runtime.arch,
      KernelVersion: '',
      BuildTime: BUILD_TIME,
    }, 200)
  )
}
