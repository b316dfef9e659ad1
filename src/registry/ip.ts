/**
 * IP address literals and CIDR prefixes, parsed without DNS or runtime APIs. Every address
 * becomes 16 bytes, IPv4 as its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so one prefix
 * match serves both families and `[::ffff:10.0.0.1]` cannot pass for something else.
 */

/** An address as 16 bytes (IPv4 mapped into `::ffff:0:0/96`). */
export type Address = Uint8Array

/** A CIDR prefix over `Address` bytes: IPv4 prefixes are offset by 96 bits. */
export interface Prefix {
  address: Address
  bits: number
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]

// One dotted part as inet_aton and the URL standard read it: 0x… hex, 0… octal, else decimal.
function ipv4Part(p: string): number | undefined {
  if (/^0x[0-9a-f]*$/i.test(p)) return p.length === 2 ? 0 : parseInt(p.slice(2), 16)
  if (/^0[0-7]+$/.test(p)) return parseInt(p, 8)
  if (/^(0|[1-9][0-9]*)$/.test(p)) return Number(p)
  return undefined
}

/**
 * An IPv4 address in any spelling getaddrinfo accepts (`127.0.0.1`, `127.1`, `2130706433`,
 * `0x7f000001`, `0177.0.0.1`), as a 32-bit number; undefined for anything else.
 */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.')
  if (parts.length > 1 && parts.at(-1) === '') parts.pop()
  if (parts.length > 4) return undefined
  const nums = parts.map(ipv4Part)
  if (nums.some((n) => n === undefined)) return undefined
  const last = nums.pop()!
  if (nums.some((n) => n! > 255) || last >= 256 ** (4 - nums.length)) return undefined
  return nums.reduce<number>((acc, n, i) => acc + n! * 256 ** (3 - i), 0) + last
}

const hexWords = (v4: number): string => `${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`

/** An IPv6 literal (no brackets, no zone) as 16 bytes; a dotted IPv4 tail is accepted. */
export function parseIPv6(text: string): Address | undefined {
  let s = text.toLowerCase()
  const tailAt = s.lastIndexOf(':')
  if (tailAt >= 0 && s.slice(tailAt + 1).includes('.')) {
    const tail = s.slice(tailAt + 1)
    // Here only four plain decimal parts are allowed, as in the URL standard's IPv6 parser.
    const v4 = /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(tail) ? parseIPv4(tail) : undefined
    if (v4 === undefined) return undefined
    s = s.slice(0, tailAt + 1) + hexWords(v4)
  }
  const halves = s.split('::')
  if (halves.length > 2) return undefined
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')))
  if (groups.flat().some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined
  const count = groups.flat().length
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined
  const words = [...groups[0]!, ...Array(8 - count).fill('0'), ...(groups[1] ?? [])]
  const bytes = new Uint8Array(16)
  words.forEach((w, i) => {
    const n = parseInt(w, 16)
    bytes[2 * i] = n >> 8
    bytes[2 * i + 1] = n & 0xff
  })
  return bytes
}

/** `10.0.0.1`, `::1`, `[::1]`, `fe80::1%eth0` → 16 bytes; undefined when it is a name. */
export function parseAddress(text: string): Address | undefined {
  const s = text.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '')
  if (s.includes(':')) return parseIPv6(s)
  const v4 = parseIPv4(s)
  if (v4 === undefined) return undefined
  return new Uint8Array([...MAPPED_PREFIX, v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff])
}

/** The IPv4 address inside an IPv4-mapped one, as four bytes. */
export function mappedIPv4(a: Address): Uint8Array | undefined {
  return MAPPED_PREFIX.every((b, i) => a[i] === b) ? a.subarray(12) : undefined
}

/** `10.0.0.0/8`, `fd00::/8`, or a single address (a full-length prefix); throws when invalid. */
export function parsePrefix(text: string): Prefix {
  const [addr = '', bitsText, extra] = text.split('/')
  const address = parseAddress(addr)
  if (!address || extra !== undefined) throw new Error(`"${text}" is not an IP address or CIDR`)
  const v4 = mappedIPv4(address) !== undefined && !addr.includes(':')
  const max = v4 ? 32 : 128
  const bits = bitsText === undefined ? max : Number(bitsText)
  if (!/^\d{1,3}$/.test(bitsText ?? '0') || bits > max) {
    throw new Error(`"${text}": the prefix length must be 0 to ${max}`)
  }
  return { address, bits: v4 ? bits + 96 : bits }
}

/** True when the first `p.bits` bits of `a` are those of the prefix. */
export function inPrefix(a: Address, p: Prefix): boolean {
  const whole = p.bits >> 3
  for (let i = 0; i < whole; i++) if (a[i] !== p.address[i]) return false
  const rest = p.bits & 7
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (a[whole]! & mask) === (p.address[whole]! & mask)
}

/** An address as text: dotted IPv4 for mapped ones, hex words otherwise (not compressed). */
export function formatAddress(a: Address): string {
  const v4 = mappedIPv4(a)
  if (v4) return [...v4].join('.')
  const words = Array.from({ length: 8 }, (_, i) => ((a[2 * i]! << 8) | a[2 * i + 1]!).toString(16))
  return words.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')
}
