/**
 * The mirror's HTTP surface: the OCI /v2 read API with its token endpoint, the admin routes
 * and /metrics, as plain Hono routes beside the Engine API. `mountMirror` hands these paths
 * over before the Engine API's middleware runs, so they are not subject to its `/v1.NN`
 * prefix handling (which would take `/v2/` for a version), its headers or its `{"message"}`
 * errors.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import type { AccessPolicy } from '../access.ts'
import { unauthorized } from '../../mirror/errors.ts'
import type { Metrics } from '../../mirror/metrics.ts'
import type { Mirror } from '../../mirror/mirror.ts'
import type { StoreVerifier } from '../../storage/verify.ts'
import { adminRoutes } from './admin.ts'
import { adminVerifyRoute } from './admin-verify.ts'
import { blobRoutes } from './blobs.ts'
import { challenged } from './challenge.ts'
import { asMirrorError, methodUnsupported, ociErrorResponse, pathUnknown } from './errors.ts'
import { manifestRoutes } from './manifests.ts'
import { metricsRoute } from './metrics.ts'
import { tagRoutes } from './tags.ts'
import { tokenRoutes } from './token.ts'

/** What the mirror's routes are built from. */
export interface MirrorAppDeps {
  mirror: Mirror
  /** Enables /admin/*; absent, those paths answer 404. */
  adminToken?: string
  /** Serves /metrics; absent, it answers 404. */
  metrics?: Metrics
  /** The write policy /admin is under (src/http/access.ts). */
  access?: AccessPolicy
  /** Serves POST /admin/verify; absent, it answers 404. */
  verify?: StoreVerifier
}

/** The Hono app for `/v2`, `/admin` and `/metrics`. */
export function mirrorApp({ mirror, adminToken, metrics, access, verify }: MirrorAppDeps): Hono {
  const app = new Hono()
  app.use('/v2/*', async (c, next) => {
    await next()
    c.res.headers.set('docker-distribution-api-version', 'registry/2.0')
  })
  // The version check, and the ping clients read challenges from: docker, podman and skopeo
  // only ever send credentials after this answered 401, so it does for callers who sent none
  // (anonymous tokens are free: public images keep working for everyone).
  const base = async (c: Context) => {
    const head = c.req.method === 'HEAD'
    try {
      const caller = await mirror.caller(c.req.raw.headers)
      if (caller.via === 'none') throw unauthorized()
    } catch (err) {
      return ociErrorResponse(challenged(asMirrorError(err), c.req.raw), head)
    }
    return new Response(head ? null : '{}', {
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'content-length': '2',
        'docker-distribution-api-version': 'registry/2.0',
      },
    })
  }
  app.on(['GET', 'HEAD'], ['/v2', '/v2/'], base)
  tokenRoutes(app, mirror)
  manifestRoutes(app, mirror)
  blobRoutes(app, mirror)
  tagRoutes(app, mirror)
  // Last: whatever the routes above did not answer. The mirror is read-only.
  app.all('/v2/*', (c) => {
    const head = c.req.method === 'HEAD'
    const unsupported = c.req.method !== 'GET' && !head
    const err = unsupported ? methodUnsupported(c.req.method) : pathUnknown(c.req.path)
    return ociErrorResponse(err, head)
  })
  adminRoutes(app, mirror, adminToken, access)
  adminVerifyRoute(app, verify)
  metricsRoute(app, metrics)
  app.notFound((c) => new Response(JSON.stringify({ message: 'page not found' }), {
    status: 404,
    headers: { 'content-type': 'application/json' },
  }))
  return app
}

const MIRROR_PATH = /^\/(?:v2(?:[/?]|$)|admin\/|metrics(?:\?|$))/

/**
 * Engine-app middleware, registered first: sends /v2, /admin and /metrics requests to
 * `mirror` and everything else on to the Engine API.
 */
export function mountMirror(mirror: Hono): MiddlewareHandler {
  return async function mountMirror(c, next) {
    const url = c.req.url
    const start = url.indexOf('/', url.indexOf('://') + 3)
    if (start >= 0 && MIRROR_PATH.test(url.slice(start))) {
      let ctx
      try {
        ctx = c.executionCtx // only Workers have one; elsewhere the getter throws
      } catch {}
      return mirror.fetch(c.req.raw, c.env, ctx)
    }
    await next()
  }
}
