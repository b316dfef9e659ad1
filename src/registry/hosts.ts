/**
 * Host classification without DNS: loopback hosts get dockerd's implicit http fallback,
 * and token realms may not point into private address space unless the registry itself
 * lives there (ggcr's SSRF guard, since a registry chooses where we send credentials).
 */

/** `host[:port]`, `[v6]:port` or a bare hostname → the hostname without brackets, lower case. */
export function hostnameOf(host: string): string {
  try {
    return new URL(`http://${host}`).hostname.replace(/^\[|\]$/g, '').toLowerCase()
  } catch {
    return host.toLowerCase()
  }
}

function ipv4(h: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h.replace(/^::ffff:/, ''))
  return m ? m.slice(1).map(Number) : undefined
}

/** 127.0.0.0/8, ::1 and localhost: hosts dockerd always treats as insecure. */
export function isLoopbackHost(host: string): boolean {
  const h = hostnameOf(host)
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1') return true
  return ipv4(h)?.[0] === 127
}

/** Loopback, RFC 1918, link-local, unspecified and unique-local addresses. */
export function isPrivateHost(host: string): boolean {
  if (isLoopbackHost(host)) return true
  const h = hostnameOf(host)
  const v4 = ipv4(h)
  if (v4) {
    const [a, b] = v4
    return (
      a === 10 ||
      a === 0 ||
      (a === 172 && b >= 16 && b < 32) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254)
    )
  }
  return h === '::' || /^f[cd][0-9a-f]{2}:/.test(h) || /^fe[89ab][0-9a-f]:/.test(h)
}
