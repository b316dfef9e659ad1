/**
 * `X-Registry-Auth`: base64url JSON AuthConfig. Like moby, a value that does not decode is
 * treated as anonymous rather than refused.
 */
import type { Credentials } from '../../registry/auth/credentials.ts'

interface AuthConfig {
  username?: string
  password?: string
  auth?: string
  identitytoken?: string
  registrytoken?: string
}

function decodeBase64(s: string): string {
  const std = s.replace(/-/g, '+').replace(/_/g, '/')
  const bin = atob(std + '='.repeat((4 - (std.length % 4)) % 4))
  return new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0)))
}

export function parseRegistryAuth(header: string | undefined): Credentials | undefined {
  if (!header) return undefined
  let cfg: AuthConfig
  try {
    cfg = JSON.parse(decodeBase64(header.trim()))
  } catch {
    return undefined
  }
  if (typeof cfg !== 'object' || cfg === null) return undefined
  let { username, password } = cfg
  if (!username && cfg.auth) {
    try {
      const [u, ...rest] = decodeBase64(cfg.auth).split(':')
      username = u
      password = rest.join(':')
    } catch {}
  }
  const creds: Credentials = {}
  if (username) creds.username = username
  if (password) creds.password = password
  if (cfg.identitytoken) creds.identityToken = cfg.identitytoken
  if (cfg.registrytoken) creds.registryToken = cfg.registrytoken
  return Object.keys(creds).length ? creds : undefined
}
