/**
 * Which hosts edgepull may connect to (no SSRF): anything on the public internet, plus the
 * hosts the config names, whatever their addresses. A configured registry's hostname is
 * trusted on every port, since its token service or blob storage often sits beside it.
 * `upstream.privateHosts` adds hostnames, addresses and CIDRs; everything else that is
 * loopback, private, link-local… is refused, asked directly, through a redirect, as a token
 * realm, or as a name that resolves there.
 */
import { normalizeEndpointUrl, type RegistrySettings } from './endpoints.ts'
import { addressClass, hostnameOf, isLocalhostName } from './hosts.ts'
import { formatAddress, inPrefix, parseAddress, parsePrefix, type Prefix } from './ip.ts'

/** The config key that lets a private host through, named in every refusal. */
export const PRIVATE_HOSTS_KEY = 'upstream.privateHosts'

/** A connection the policy refused; its message says what, why, and how to allow it. */
export class NetworkRefusedError extends Error {
  override name = 'NetworkRefusedError'
  /** Errno-style, so retry logic sees a failure no second try can fix. */
  readonly code = 'ERR_EDGEPULL_REFUSED'
}

const normalize = (hostname: string): string =>
  hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase()

/** Where edgepull may connect; build it with `networkPolicy()`. */
export class NetworkPolicy {
  private readonly names = new Set<string>()
  private readonly prefixes: Prefix[] = []

  /** `trusted`: hostnames, addresses and CIDRs that may be private (see `networkPolicy`). */
  constructor(trusted: Iterable<string>) {
    for (const entry of trusted) {
      const host = normalize(entry)
      if (host.includes('/') || parseAddress(host)) this.prefixes.push(parsePrefix(host))
      else this.names.add(host)
    }
  }

  /** True when the config names `hostname` (or its address), so it may be anything. */
  trusts(hostname: string): boolean {
    const host = normalize(hostname)
    if (this.names.has(host)) return true
    const a = parseAddress(host)
    return a !== undefined && this.prefixes.some((p) => inPrefix(a, p))
  }

  /**
   * Why `hostname` may not be connected to, judged without DNS: an address literal that is
   * not public, or a localhost name. Undefined when it may go ahead (a name still needs its
   * addresses checked with `addressRefusal`).
   */
  hostRefusal(hostname: string): string | undefined {
    const host = normalize(hostname)
    if (this.trusts(host)) return undefined
    if (isLocalhostName(host)) return refusal(host, 'a loopback address')
    const a = parseAddress(host)
    const kind = a && addressClass(a)
    return kind ? refusal(formatAddress(a), kind) : undefined
  }

  /** Why a connection to `hostname`, which resolved to `addresses`, is refused (if it is). */
  addressRefusal(hostname: string, addresses: string[]): string | undefined {
    if (this.trusts(hostname)) return undefined
    for (const text of addresses) {
      const a = parseAddress(text)
      if (a && this.prefixes.some((p) => inPrefix(a, p))) continue
      const kind = a ? addressClass(a) : 'not an IP address'
      if (kind) return refusal(`${normalize(hostname)} (${a ? formatAddress(a) : text})`, kind)
    }
    return undefined
  }
}

const refusal = (what: string, kind: string): string =>
  `refusing to connect to ${what}: ${kind}; list it in ${PRIVATE_HOSTS_KEY} to allow it`

/** The policy for a config: its registries (keys, endpoints, mirrors) and `privateHosts`. */
export function networkPolicy(
  registries: Record<string, RegistrySettings>,
  privateHosts: readonly string[] = []
): NetworkPolicy {
  const trusted = new Set<string>()
  for (const [key, settings] of Object.entries(registries)) {
    trusted.add(hostnameOf(key))
    for (const url of [settings.endpoint, ...(settings.mirrors ?? [])]) {
      if (url) trusted.add(hostnameOf(new URL(normalizeEndpointUrl(url)).host))
    }
  }
  try {
    return new NetworkPolicy([...trusted, ...privateHosts])
  } catch (err) {
    // Only a privateHosts entry can be a malformed CIDR; the registries' hosts are URLs.
    throw new Error(`${PRIVATE_HOSTS_KEY}: ${(err as Error).message}`)
  }
}
