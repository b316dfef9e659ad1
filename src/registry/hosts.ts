/**
 * Host classification without DNS: loopback hosts get dockerd's implicit http fallback, and
 * the network guard (network-guard.ts) refuses addresses that are not on the public internet
 * unless the config names them: loopback, private, link-local (cloud metadata at
 * 169.254.169.254), carrier-grade NAT, unspecified, multicast and reserved, including IPv4
 * addresses dressed as IPv6 (mapped, compatible, NAT64, 6to4).
 */
import { mappedIPv4, parseAddress, type Address } from './ip.ts'

/** `host[:port]`, `[v6]:port` or a bare hostname → the hostname without brackets, lower case. */
export function hostnameOf(host: string): string {
  try {
    return new URL(`http://${host}`).hostname.replace(/^\[|\]$/g, '').toLowerCase()
  } catch {
    return host.toLowerCase()
  }
}

/** `localhost` and its subdomains (RFC 6761), which resolve to loopback without asking DNS. */
export const isLocalhostName = (hostname: string): boolean =>
  /(^|\.)localhost\.?$/i.test(hostname)

/** 127.0.0.0/8, ::1 and localhost: hosts dockerd always treats as insecure. */
export function isLoopbackHost(host: string): boolean {
  const h = hostnameOf(host)
  if (isLocalhostName(h)) return true
  const a = parseAddress(h)
  return a !== undefined && addressClass(a) === LOOPBACK
}

const LOOPBACK = 'a loopback address'
const PRIVATE = 'a private address'
const RESERVED = 'a reserved address'

// The IPv4 ranges that are not the public internet (IANA special-purpose registry).
function ipv4Class([a, b, c]: Uint8Array): string | undefined {
  if (a === 127) return LOOPBACK
  if (a === 10 || (a === 172 && b! >= 16 && b! < 32) || (a === 192 && b === 168)) return PRIVATE
  if (a === 169 && b === 254) return 'a link-local address'
  if (a === 100 && b! >= 64 && b! < 128) return 'a carrier-grade NAT address'
  if (a === 0) return 'an unspecified address'
  if (a! >= 224 && a! < 240) return 'a multicast address'
  if (a! >= 240 || (a === 192 && b === 0 && c === 0) || (a === 198 && (b === 18 || b === 19))) {
    return RESERVED
  }
  return undefined
}

const zeros = (a: Address, from: number, to: number): boolean =>
  a.subarray(from, to).every((b) => b === 0)

/** What kind of non-public address `a` is (`a private address`…), or undefined when public. */
export function addressClass(a: Address): string | undefined {
  const v4 = mappedIPv4(a)
  if (v4) return ipv4Class(v4)
  if (zeros(a, 0, 16)) return 'an unspecified address'
  if (zeros(a, 0, 15) && a[15] === 1) return LOOPBACK
  // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address.
  if (zeros(a, 0, 12) || (a[0] === 0 && a[1] === 0x64 && a[2] === 0xff && a[3] === 0x9b && zeros(a, 4, 12))) {
    return ipv4Class(a.subarray(12))
  }
  if (a[0] === 0x20 && a[1] === 0x02) return ipv4Class(a.subarray(2, 6)) // 6to4
  if ((a[0]! & 0xfe) === 0xfc) return PRIVATE // fc00::/7, unique local
  if (a[0] === 0xfe && (a[1]! & 0xc0) === 0x80) return 'a link-local address'
  if (a[0] === 0xfe && (a[1]! & 0xc0) === 0xc0) return PRIVATE // fec0::/10, site-local
  if (a[0] === 0xff) return 'a multicast address'
  return undefined
}
