/** The headers moby's middleware puts on every response, errors included. */
import type { MiddlewareHandler } from 'hono'
import { MAX_API_VERSION } from './api-version.ts'

export function dockerHeaders(serverVersion: string): MiddlewareHandler {
  return async function dockerHeaders(c, next) {
    await next()
    const h = c.res.headers
    h.set('Api-Version', MAX_API_VERSION)
    h.set('Ostype', 'linux')
    h.set('Docker-Experimental', 'false')
    h.set('Server', `edgepull/${serverVersion} (linux)`)
  }
}
