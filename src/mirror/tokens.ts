/**
 * The mirror's bearer tokens, as `/v2/token` issues them: the caller's registry credentials
 * sealed with AES-GCM (Web Crypto) under the server's secret, with an expiry. The mirror keeps
 * no session state, so any instance holding the secret can open any token; nobody without it
 * can read the credentials out of a token or forge one. An anonymous token seals "nobody".
 */
import type { Credentials } from '../registry/auth/credentials.ts'

/** How long a token is good for (Docker Hub's figure); clients fetch a new one after. */
export const TOKEN_SECONDS = 300

/** What `/v2/token` answers with. */
export interface IssuedToken {
  token: string
  expiresIn: number
  /** RFC 3339. */
  issuedAt: string
}

/** Issues and opens tokens under one secret. */
export interface TokenSealer {
  issue(credentials: Credentials | undefined): Promise<IssuedToken>
  /**
   * The credentials a token carries (`{}` for an anonymous one); null when the token is
   * forged, damaged, sealed under another secret or expired.
   */
  open(token: string): Promise<{ credentials?: Credentials } | null>
}

/** What is sealed: short keys keep the `Authorization` header short. */
interface Payload {
  v: 1
  /** Expiry, ms since the epoch. */
  exp: number
  u?: string
  p?: string
  i?: string
  r?: string
}

const utf8 = new TextEncoder()
// Binds ciphertexts to this use: a secret shared with something else cannot be replayed here.
const AAD = utf8.encode('edgepull /v2 token v1')
const IV_BYTES = 12

/**
 * A sealer keyed by `secret` (at least 32 characters, see the config's `tokenSecret`), or by
 * 32 random bytes when there is none: tokens then die with the process.
 */
export function createTokenSealer(secret?: string, now: () => number = Date.now): TokenSealer {
  const key = (async () => {
    const material = secret
      ? await crypto.subtle.digest('SHA-256', utf8.encode(`edgepull token key\0${secret}`))
      : crypto.getRandomValues(new Uint8Array(32))
    return crypto.subtle.importKey('raw', material, 'AES-GCM', false, ['encrypt', 'decrypt'])
  })()

  return {
    async issue(credentials) {
      const issued = now()
      const payload: Payload = { v: 1, exp: issued + TOKEN_SECONDS * 1000 }
      if (credentials?.username) payload.u = credentials.username
      if (credentials?.password) payload.p = credentials.password
      if (credentials?.identityToken) payload.i = credentials.identityToken
      if (credentials?.registryToken) payload.r = credentials.registryToken
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
      const plain = utf8.encode(JSON.stringify(payload))
      const params = { name: 'AES-GCM', iv, additionalData: AAD }
      const sealed = new Uint8Array(await crypto.subtle.encrypt(params, await key, plain))
      const token = base64url(concat(iv, sealed))
      return { token, expiresIn: TOKEN_SECONDS, issuedAt: new Date(issued).toISOString() }
    },

    async open(token) {
      const bytes = unbase64url(token)
      if (!bytes || bytes.byteLength <= IV_BYTES) return null
      let payload: Payload
      try {
        const iv = bytes.subarray(0, IV_BYTES)
        const params = { name: 'AES-GCM', iv, additionalData: AAD }
        const plain = await crypto.subtle.decrypt(params, await key, bytes.subarray(IV_BYTES))
        payload = JSON.parse(new TextDecoder().decode(plain))
      } catch {
        return null // not ours, or tampered with: GCM's tag says so
      }
      if (payload?.v !== 1 || typeof payload.exp !== 'number' || payload.exp <= now()) return null
      const c: Credentials = {}
      if (typeof payload.u === 'string') c.username = payload.u
      if (typeof payload.p === 'string') c.password = payload.p
      if (typeof payload.i === 'string') c.identityToken = payload.i
      if (typeof payload.r === 'string') c.registryToken = payload.r
      return Object.keys(c).length > 0 ? { credentials: c } : {}
    },
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a)
  out.set(b, a.byteLength)
  return out
}

function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function unbase64url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
    return Uint8Array.from(binary, (c) => c.charCodeAt(0))
  } catch {
    return null
  }
}
