/**
 * DNS for the network guard (src/registry/network-guard.ts), which shared code cannot do.
 * Bun and Deno resolve a name before each request (`resolveAll`); Node checks the addresses
 * its sockets actually connect to (`guardedLookup`, undici's `connect.lookup`), which also
 * defeats DNS rebinding: a name that answers public to the check and private to the connect.
 */
import { lookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { lookup as lookupAsync } from 'node:dns/promises'
import type { NetworkPolicy } from '../registry/network-policy.ts'
import { NetworkRefusedError } from '../registry/network-policy.ts'

/** Every address `hostname` resolves to, as the system resolver (getaddrinfo) sees it. */
export async function resolveAll(hostname: string): Promise<string[]> {
  return (await lookupAsync(hostname, { all: true })).map((a) => a.address)
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number
) => void

/** `net.connect`'s `lookup` option: dns.lookup, refusing what the policy refuses. */
export function guardedLookup(policy: NetworkPolicy, resolve: typeof lookup = lookup) {
  return function lookupChecked(hostname: string, options: LookupOptions, callback: LookupCallback) {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, [])
      const why = policy.addressRefusal(hostname, addresses.map((a) => a.address))
      if (why) return callback(new NetworkRefusedError(why), [])
      // Node's happy eyeballs asks for all addresses; a plain connect for the first one.
      if (options.all) return callback(null, addresses)
      callback(null, addresses[0]!.address, addresses[0]!.family)
    })
  }
}
