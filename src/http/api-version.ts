/**
 * Docker's `/v1.NN/` prefix: every route answers with and without it; a version outside
 * [min, max] gets Docker's 400; handlers read the request's version from the context.
 */
import type { MiddlewareHandler } from 'hono'
import { engineErrorResponse } from './errors.ts'

export const MIN_API_VERSION = '1.24'
export const MAX_API_VERSION = '1.51'

const PREFIX = /^\/v(\d+(?:\.\d+)*)(?=\/)/

/** Compares dotted versions segment by segment as integers (1.9 < 1.10). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return Math.sign(d)
  }
  return 0
}

/** Routing path without the version prefix (Hono's `getPath` option). */
export function stripVersion(request: Request): string {
  const url = request.url
  const start = url.indexOf('/', url.indexOf('://') + 3)
  const end = url.indexOf('?', start)
  const path = start < 0 ? '/' : url.slice(start, end < 0 ? undefined : end)
  return path.replace(PREFIX, '')
}

export type ApiVersionEnv = { Variables: { apiVersion: string } }

/** Validates the prefix version and stores the effective one as `apiVersion`. */
export function apiVersion(): MiddlewareHandler<ApiVersionEnv> {
  return async function apiVersion(c, next) {
    const m = PREFIX.exec(new URL(c.req.url).pathname)
    const version = m?.[1] ?? MAX_API_VERSION
    if (compareVersions(version, MAX_API_VERSION) > 0) {
      return engineErrorResponse(
        400,
        `client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}`
      )
    }
    if (compareVersions(version, MIN_API_VERSION) < 0) {
      return engineErrorResponse(
        400,
        `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`
      )
    }
    c.set('apiVersion', version)
    await next()
  }
}
