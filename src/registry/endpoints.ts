/**
 * Which registry roots a pull tries, in order, and when to move on to the next one:
 * the daemon's LookupPullEndpoints and its fallback rule (image-api-notes §7.3).
 */
import type { Credentials } from './auth/credentials.ts'
import { RegistryError, UnsupportedManifestError } from './errors.ts'
import { isAbortError } from './fetch.ts'
import { isLoopbackHost } from './hosts.ts'

/** A registry root (`https://registry-1.docker.io`, no trailing slash). */
export interface Endpoint {
  url: string
  /** A docker.io pull mirror: any registry error moves on to the next endpoint. */
  mirror: boolean
  /** The plain-http retry of a loopback host, skipped once https has shown it speaks TLS. */
  insecureFallback?: boolean
}

/** Per-registry settings, as the config file holds them (keyed by registry host). */
export interface RegistrySettings {
  endpoint?: string
  mirrors?: string[]
  username?: string
  password?: string
}

/** Docker Hub's canonical domain and its aliases. */
const HUB_DOMAINS = ['docker.io', 'index.docker.io', 'registry-1.docker.io']
/** Where Docker Hub's registry API lives. */
export const HUB_ENDPOINT = 'https://registry-1.docker.io'

const isHub = (domain: string): boolean => HUB_DOMAINS.includes(domain.toLowerCase())

/** `mirror.example` → `https://mirror.example`; trailing slashes dropped. */
export function normalizeEndpointUrl(url: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`
  return withScheme.replace(/\/+$/, '')
}

function settingsFor(
  domain: string,
  registries: Record<string, RegistrySettings>
): RegistrySettings | undefined {
  if (registries[domain]) return registries[domain]
  if (!isHub(domain)) return undefined
  return HUB_DOMAINS.map((d) => registries[d]).find(Boolean)
}

/** The endpoints a pull of `domain` tries, first to last. */
export function lookupPullEndpoints(
  domain: string,
  registries: Record<string, RegistrySettings>
): Endpoint[] {
  const settings = settingsFor(domain, registries)
  if (isHub(domain)) {
    const mirrors = (settings?.mirrors ?? []).map((m) => ({
      url: normalizeEndpointUrl(m),
      mirror: true,
    }))
    return [
      ...mirrors,
      { url: normalizeEndpointUrl(settings?.endpoint ?? HUB_ENDPOINT), mirror: false },
    ]
  }
  const primary: Endpoint = {
    url: normalizeEndpointUrl(settings?.endpoint ?? `https://${domain}`),
    mirror: false,
  }
  const plain = `http://${domain}`
  if (!isLoopbackHost(domain) || primary.url === plain) return [primary]
  return [primary, { url: plain, mirror: false, insecureFallback: true }]
}

/** The credentials configured for `domain` (Docker Hub aliases included), if any. */
export function configuredCredentials(
  domain: string,
  registries: Record<string, RegistrySettings>
): Credentials | undefined {
  const s = settingsFor(domain, registries)
  if (!s?.username && !s?.password) return undefined
  return { username: s.username, password: s.password }
}

/**
 * dockerd's `continueOnError`: after `err` from `endpoint`, is the next one worth trying?
 * Transport failures and unexpected responses: yes. Registry errors (404, denied…): only
 * after a mirror. Cancellation, schema 1 and unsupported media types: never. Pass `next`
 * to skip an http fallback once the https endpoint has answered over TLS.
 */
export function shouldFallback(err: unknown, endpoint: Endpoint, next?: Endpoint): boolean {
  if (isAbortError(err) || err instanceof UnsupportedManifestError) return false
  if (!(err instanceof RegistryError)) return true
  // Failures while authorizing (token server, missing credentials) are Go url.Errors.
  const transportLevel = err.transport || err.outer !== undefined
  if (err.errors.length > 0 && !transportLevel) return endpoint.mirror
  if (next?.insecureFallback && err.status !== undefined && endpoint.url.startsWith('https://')) {
    return new URL(endpoint.url).host !== new URL(next.url).host
  }
  return true
}
