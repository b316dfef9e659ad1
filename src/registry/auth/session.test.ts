import { describe, expect, test } from 'bun:test'
import { createRegistryClient } from '../client.ts'
import { RegistryError } from '../errors.ts'
import type { Fetch } from '../fetch.ts'
import { withNetworkGuard } from '../network-guard.ts'
import { networkPolicy } from '../network-policy.ts'

/** A registry (a plain function) whose `/v2/` sends a Bearer challenge with `realm`. */
function challenging(realm: string, seen: string[]): Fetch {
  return async (r) => {
    seen.push(r.url)
    if (new URL(r.url).pathname === '/v2/') {
      return new Response(null, {
        status: 401,
        headers: { 'www-authenticate': `Bearer realm="${realm}",service="reg"` },
      })
    }
    return new Response(null, { status: 500 })
  }
}

describe('token realms (SSRF guard)', () => {
  test('a public registry may not send our credentials into private address space', async () => {
    for (const [realm, address] of [
      ['http://10.1.2.3/token', '10.1.2.3: a private address'],
      ['http://169.254.169.254/latest', '169.254.169.254: a link-local address'],
      ['http://[::1]/t', '::1: a loopback address'],
    ] as const) {
      const seen: string[] = []
      // As assemble() builds it: the client's one fetch goes through the network guard.
      const fetch = withNetworkGuard(challenging(realm, seen), networkPolicy({}))
      const client = createRegistryClient({ fetch })
      const repo = client.repository({ url: 'https://registry.example', mirror: false }, 'a/b', {
        credentials: { username: 'u', password: 'p' },
      })
      const err = await repo.resolve('latest').catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RegistryError)
      const text = (err as RegistryError).dockerText()
      expect(text).toStartWith(`Head "https://registry.example/v2/a/b/manifests/latest": Get "${realm}?`)
      expect(text).toEndWith(`: refusing to connect to ${address}; list it in upstream.privateHosts to allow it`)
      expect(seen).toEqual(['https://registry.example/v2/'])
    }
  })

  test('a realm that is not http(s) is refused too', async () => {
    const seen: string[] = []
    const client = createRegistryClient({ fetch: challenging('file:///etc/passwd', seen) })
    const repo = client.repository({ url: 'https://registry.example', mirror: false }, 'a/b')
    expect(await repo.manifest('latest').catch((e: unknown) => e)).toBeInstanceOf(RegistryError)
    expect(seen).toHaveLength(1)
  })
})
