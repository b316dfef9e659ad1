/**
 * Who may write: the write routes (Engine API POST and DELETE — pull, import, load, push,
 * tag, delete, prune, commit — and /admin/*) behind the config's `writeToken`, refused
 * altogether in read-only mode, and refused to everyone when edgepull listens beyond
 * loopback without a token (anyone who reaches the port could otherwise fill or empty the
 * store). Read routes (GET, HEAD, the /v2 mirror, /metrics) stay open. Refusals are
 * `{"message"}`, the format of both the Engine API and /admin.
 */
import type { MiddlewareHandler } from 'hono'
import { sha256 } from '../oci/digest.ts'
import { engineErrorResponse } from './errors.ts'

/** The write policy; runtime entries decide `exposed` from where they listen. */
export interface AccessPolicy {
  /** Bearer token the write routes require (the config's `writeToken`). */
  writeToken?: string
  /** Every write route answers 403. */
  readOnly?: boolean
  /** Listening beyond loopback (or on Workers): without a writeToken, writes answer 403. */
  exposed?: boolean
}

export const READ_ONLY_MESSAGE = 'edgepull is read-only'

export const EXPOSED_WITHOUT_TOKEN_MESSAGE =
  'write routes are disabled: edgepull listens beyond loopback without a writeToken; ' +
  'set writeToken in the config (or EDGEPULL_WRITE_TOKEN) and send it as a bearer token'

// Comparing digests keeps the comparison's timing independent of where the strings differ.
export const sameSecret = (a: string, b: string): boolean => sha256(a) === sha256(b)

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Whether an Engine API request writes: every Engine route but GET/HEAD (and preflights). */
export const isEngineWrite = (method: string): boolean => !READ_METHODS.has(method)

/**
 * Decides one write request: undefined to let it through, or the refusal. `adminToken` is
 * accepted beside the writeToken (/admin keeps it). A missing or wrong token is `badToken`:
 * 401 with a challenge for /admin; 403 for the Engine API, because on a 401 `docker pull`
 * and `docker push` prompt for a registry login (and hang without a terminal) instead of
 * showing the message.
 */
export function refuseWrite(
  policy: AccessPolicy,
  authorization: string | undefined,
  { adminToken, badToken = 403 }: { adminToken?: string; badToken?: 401 | 403 } = {}
): Response | undefined {
  if (policy.readOnly) return engineErrorResponse(403, READ_ONLY_MESSAGE)
  const tokens = [policy.writeToken, adminToken].filter((t): t is string => !!t)
  if (tokens.length === 0) {
    return policy.exposed ? engineErrorResponse(403, EXPOSED_WITHOUT_TOKEN_MESSAGE) : undefined
  }
  const sent = authorization ?? ''
  if (tokens.some((token) => sameSecret(sent, `Bearer ${token}`))) return undefined
  const expected = adminToken ? 'Bearer <adminToken or writeToken>' : 'Bearer <writeToken>'
  const problem = sent ? 'the token sent is wrong' : 'a token is required'
  const res = engineErrorResponse(badToken, `${problem}: send Authorization: ${expected}`)
  if (badToken === 401) res.headers.set('www-authenticate', 'Bearer realm="edgepull"')
  return res
}

/**
 * /admin/*: as a write route, but absent (404) while nothing could open it on loopback —
 * neither an adminToken nor a writeToken configured.
 */
export function refuseAdmin(
  policy: AccessPolicy,
  authorization: string | undefined,
  adminToken?: string
): Response | undefined {
  const closed = !policy.readOnly && !policy.exposed && !policy.writeToken && !adminToken
  if (closed) return engineErrorResponse(404, 'page not found')
  return refuseWrite(policy, authorization, { adminToken, badToken: 401 })
}

/** Engine API middleware: write routes pass only under the policy; reads always do. */
export function writeAccess(policy: AccessPolicy): MiddlewareHandler {
  return async function writeAccess(c, next) {
    if (isEngineWrite(c.req.method)) {
      const refusal = refuseWrite(policy, c.req.header('authorization'))
      if (refusal) return refusal
    }
    await next()
  }
}
