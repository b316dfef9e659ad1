/**
 * Who is calling, from the `Authorization` header of a /v2 request: nobody, Basic credentials
 * (curl, scripts, clients configured with them) or a bearer token this mirror issued at
 * `/v2/token` (docker, containerd, podman, skopeo after the usual challenge). Either way the
 * result is the caller's registry credentials, which the mirror uses upstream.
 */
import type { Credentials } from '../registry/auth/credentials.ts'
import { unauthorized } from './errors.ts'
import type { TokenSealer } from './tokens.ts'

/** The caller and how they said who they are. */
export interface Caller {
  /** Absent for anonymous callers. */
  credentials?: Credentials
  via: 'none' | 'basic' | 'token'
}

/** `Basic base64(user:password)` → credentials; null when malformed. */
export function parseBasic(value: string): Credentials | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value)
  if (!m) return null
  let text: string
  try {
    const binary = atob(m[1]!)
    text = new TextDecoder('utf-8', { fatal: true }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0))
    )
  } catch {
    return null
  }
  const colon = text.indexOf(':')
  if (colon <= 0) return null
  return { username: text.slice(0, colon), password: text.slice(colon + 1) }
}

/**
 * Reads the caller from `headers`. Throws 401 for a header that is malformed, of another
 * scheme, or a token that is forged, damaged or expired: the client then fetches a new one.
 */
export async function callerOf(headers: Headers, tokens: TokenSealer): Promise<Caller> {
  const value = headers.get('authorization')?.trim()
  if (!value) return { via: 'none' }
  if (/^basic\s/i.test(value)) {
    const credentials = parseBasic(value)
    if (!credentials) throw unauthorized('malformed Basic credentials')
    return { credentials, via: 'basic' }
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(value)
  if (!bearer) throw unauthorized('unsupported authorization scheme')
  const opened = await tokens.open(bearer[1]!)
  if (!opened) throw unauthorized('invalid or expired token')
  return opened.credentials ? { credentials: opened.credentials, via: 'token' } : { via: 'token' }
}
