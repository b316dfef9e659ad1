/**
 * The challenge every 401 under /v2 carries, pointing clients at this mirror's own token
 * endpoint (never at the upstream's): `Bearer realm="<this server>/v2/token",service=…`, with
 * the repository's pull scope when a repository was asked for. docker, containerd, podman and
 * skopeo then fetch a token there, with the credentials they hold for this host, and retry.
 */
import { MirrorError } from '../../mirror/errors.ts'

/** The `service` this mirror's tokens are for. */
export const TOKEN_SERVICE = 'edgepull'

const PROTO = /^https?$/
const HOST = /^[A-Za-z0-9.-]+(?::\d+)?$|^\[[0-9A-Fa-f:.]+\](?::\d+)?$/

/**
 * This server's origin as the client reached it: the request's, or what a TLS-terminating
 * proxy in front says (`X-Forwarded-Proto`, `X-Forwarded-Host`). Trusting those is harmless:
 * a client that lies in them only sends itself to the wrong realm.
 */
export function publicOrigin(req: Request): string {
  const url = new URL(req.url)
  const first = (name: string) => req.headers.get(name)?.split(',')[0]?.trim().toLowerCase()
  const proto = first('x-forwarded-proto')
  const host = first('x-forwarded-host')
  const scheme = proto && PROTO.test(proto) ? proto : url.protocol.slice(0, -1)
  return `${scheme}://${host && HOST.test(host) ? host : url.host}`
}

/** The `WWW-Authenticate` value for `req`; `name` is the repository as the path spells it. */
export function challenge(req: Request, name?: string): string {
  const params = [`realm="${publicOrigin(req)}/v2/token"`, `service="${TOKEN_SERVICE}"`]
  if (name && /^[A-Za-z0-9._/:-]+$/.test(name)) params.push(`scope="repository:${name}:pull"`)
  return `Bearer ${params.join(',')}`
}

/** `err`, with the challenge when it is a 401 (a copy: errors are shared between callers). */
export function challenged(err: MirrorError, req: Request, name?: string): MirrorError {
  if (err.status !== 401) return err
  const headers = { ...err.headers, 'www-authenticate': challenge(req, name) }
  return new MirrorError(err.status, err.code, err.message, err.detail, headers, {
    cause: err.cause,
  })
}
