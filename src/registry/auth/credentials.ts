/**
 * Registry credentials as Docker's `X-Registry-Auth` AuthConfig carries them. The transport
 * asks for them and never decides where they come from (ggcr's authn/transport split).
 */
import { sha256 } from '../../oci/digest.ts'

/** Docker's AuthConfig, reduced to what a puller uses. */
export interface Credentials {
  username?: string
  password?: string
  /** A refresh token from `docker login` (AuthConfig `identitytoken`): OAuth2 grant. */
  identityToken?: string
  /** A bearer token to send as is (AuthConfig `registrytoken`). */
  registryToken?: string
}

/** True when nothing usable is set, i.e. the request is anonymous. */
export const isAnonymous = (c: Credentials | undefined): boolean =>
  !c || !(c.username || c.password || c.identityToken || c.registryToken)

/**
 * A stable, non-secret key for a credential set: '' for anonymous, a hash otherwise.
 * Sessions and tokens are cached per identity, so two users never share a token.
 */
export function identityKey(c: Credentials | undefined): string {
  if (isAnonymous(c)) return ''
  const parts = [
    c!.username ?? '',
    c!.password ?? '',
    c!.identityToken ?? '',
    c!.registryToken ?? '',
  ]
  return sha256(JSON.stringify(parts)).slice(7, 31)
}

/** `Basic base64(user:password)`, UTF-8 safe; undefined without a username. */
export function basicAuthorization(c: Credentials | undefined): string | undefined {
  if (!c?.username) return undefined
  const bytes = new TextEncoder().encode(`${c.username}:${c.password ?? ''}`)
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return `Basic ${btoa(binary)}`
}
