/**
 * The network guard: a wrapper around the one injected fetch that every upstream request
 * goes through (registry API, blobs, token realms, `docker import` URLs, Docker Hub search).
 * It checks each URL against the `NetworkPolicy` before connecting, and follows redirects
 * itself, checking every hop, because a fetch that follows them on its own would take a
 * registry's `Location: http://169.254.169.254/` straight to the cloud metadata service.
 *
 * Names are resolved with the runtime's `resolve` and every address is checked (a public
 * name may point at a private address). Resolving first and connecting after leaves a
 * window for DNS rebinding; the Node entry closes it by checking the addresses it actually
 * connects to (src/runtime/dns.ts), and Workers cannot reach private addresses at all.
 */
import type { Fetch } from './fetch.ts'
import { parseAddress } from './ip.ts'
import { NetworkRefusedError, type NetworkPolicy } from './network-policy.ts'
import { followRedirect, MAX_REDIRECTS, TooManyRedirectsError } from './redirects.ts'

/** A hostname's addresses (`node:dns` lookup with `all: true`, as strings). */
export type Resolve = (hostname: string) => Promise<string[]>

export interface NetworkGuardOptions {
  /** Checks the addresses names resolve to; absent, only literal addresses are judged. */
  resolve?: Resolve
}

/** `fetch` that refuses what `policy` refuses, on the first request and every redirect. */
export function withNetworkGuard(fetch: Fetch, policy: NetworkPolicy, o: NetworkGuardOptions = {}): Fetch {
  const refused = (url: URL, hop: number, why: string) =>
    new NetworkRefusedError(hop === 0 ? why : `redirected to ${shown(url)}: ${why}`)

  async function check(url: URL, hop: number): Promise<void> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw refused(url, hop, `refusing to connect over ${url.protocol}: only http and https`)
    }
    const hostname = url.hostname
    const why = policy.hostRefusal(hostname)
    if (why) throw refused(url, hop, why)
    if (!o.resolve || policy.trusts(hostname) || parseAddress(hostname)) return
    const addresses = await o.resolve(hostname)
    const byAddress = policy.addressRefusal(hostname, addresses)
    if (byAddress) throw refused(url, hop, byAddress)
  }

  return async function guardedFetch(request: Request): Promise<Response> {
    const initial = new URL(request.url)
    let current = new Request(request, { redirect: 'manual' })
    for (let hop = 0; ; hop++) {
      const url = new URL(current.url)
      await check(url, hop)
      let res: Response
      try {
        res = await fetch(current)
      } catch (err) {
        const refusal = refusalIn(err)
        throw refusal ? refused(url, hop, refusal.message) : err
      }
      const next = followRedirect(current, res, initial)
      if (!next) return res
      await res.body?.cancel().catch(() => {})
      if (hop >= MAX_REDIRECTS) throw new TooManyRedirectsError()
      current = next
    }
  }
}

/** A URL as a refusal shows it: no credentials, no query (presigned URLs carry secrets). */
const shown = (u: URL): string => `${u.protocol}//${u.host}${u.pathname}`

/**
 * The guard's own refusal inside a fetch failure: the Node entry refuses at connect time,
 * and Node's fetch wraps that in `TypeError('fetch failed', { cause })`.
 */
function refusalIn(err: unknown): NetworkRefusedError | undefined {
  let e = err as { name?: unknown; cause?: unknown } | undefined
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++, e = e.cause as typeof e) {
    if (e.name === 'NetworkRefusedError') return e as NetworkRefusedError
  }
  return undefined
}
