import { describe, expect, test } from 'bun:test'
import type { Fetch } from './fetch.ts'
import { withNetworkGuard } from './network-guard.ts'
import { NetworkRefusedError, networkPolicy } from './network-policy.ts'

/** What a fake network saw: every request the guard let through, with its headers. */
interface Seen {
  method: string
  url: string
  authorization: string | null
  contentType: string | null
}

/** A network of fake hosts: `routes[url]` answers, anything else is a 200 `ok`. */
function network(routes: Record<string, () => Response>): { fetch: Fetch; seen: Seen[] } {
  const seen: Seen[] = []
  const fetch: Fetch = async (r) => {
    expect(r.redirect).toBe('manual') // the runtime's fetch must not follow on its own
    seen.push({
      method: r.method,
      url: r.url,
      authorization: r.headers.get('authorization'),
      contentType: r.headers.get('content-type'),
    })
    return routes[r.url]?.() ?? new Response('ok')
  }
  return { fetch, seen }
}

const redirect = (location: string, status = 307) => () =>
  new Response(null, { status, headers: { location } })

const policy = networkPolicy({ 'registry.example': {} }, ['10.9.0.0/16'])
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as Error
  )

describe('network guard', () => {
  test('a literal private address is refused before any connection', async () => {
    const { fetch, seen } = network({})
    const guarded = withNetworkGuard(fetch, policy)
    for (const url of ['http://10.0.0.5/x', 'http://2130706433:8080/', 'http://[::ffff:169.254.169.254]/']) {
      const err = await refusal(guarded(new Request(url)))
      expect(err).toBeInstanceOf(NetworkRefusedError)
      expect(err!.message).toEndWith('; list it in upstream.privateHosts to allow it')
    }
    expect(seen).toEqual([])
  })

  test('a redirect into private space is refused, and its target never asked', async () => {
    const { fetch, seen } = network({
      'https://registry.example/v2/a/blobs/sha256:1': redirect('https://cdn.example/blob?X-Amz-Signature=s3cret'),
      'https://cdn.example/blob?X-Amz-Signature=s3cret': redirect('http://169.254.169.254/latest/meta-data/', 302),
    })
    const guarded = withNetworkGuard(fetch, policy)
    const err = await refusal(guarded(new Request('https://registry.example/v2/a/blobs/sha256:1')))
    expect(err).toBeInstanceOf(NetworkRefusedError)
    expect(err!.message).toBe(
      'redirected to http://169.254.169.254/latest/meta-data/: refusing to connect to 169.254.169.254: ' +
        'a link-local address; list it in upstream.privateHosts to allow it'
    )
    expect(seen.map((s) => s.url)).toEqual([
      'https://registry.example/v2/a/blobs/sha256:1',
      'https://cdn.example/blob?X-Amz-Signature=s3cret',
    ])
  })

  test('redirects are followed as Go does: credentials stay on the original host', async () => {
    const { fetch, seen } = network({
      'https://registry.example/v2/a/blobs/sha256:1': redirect('/moved', 301),
      'https://registry.example/moved': redirect('https://eu.registry.example/b', 308),
      'https://eu.registry.example/b': redirect('https://cdn.example/c', 302),
      'https://cdn.example/c': redirect('http://10.9.1.1/d', 307),
    })
    const headers = { authorization: 'Bearer t0ken' }
    const res = await withNetworkGuard(fetch, policy)(
      new Request('https://registry.example/v2/a/blobs/sha256:1', { headers })
    )
    expect(await res.text()).toBe('ok')
    expect(seen.map((s) => [s.url, s.authorization])).toEqual([
      ['https://registry.example/v2/a/blobs/sha256:1', 'Bearer t0ken'],
      ['https://registry.example/moved', 'Bearer t0ken'],
      ['https://eu.registry.example/b', 'Bearer t0ken'], // a subdomain keeps it, as in Go
      ['https://cdn.example/c', null],
      ['http://10.9.1.1/d', null], // privateHosts lets it through
    ])
  })

  test('a POST redirected with 303 becomes a GET without body; a 307 with a body is handed back', async () => {
    const { fetch, seen } = network({
      'https://registry.example/token': redirect('https://registry.example/token2', 303),
      'https://registry.example/upload': redirect('https://registry.example/upload2', 307),
    })
    const guarded = withNetworkGuard(fetch, policy)
    const post = (url: string) =>
      new Request(url, { method: 'POST', body: 'grant_type=x', headers: { 'content-type': 'text/plain' } })
    expect((await guarded(post('https://registry.example/token'))).status).toBe(200)
    expect(seen.slice(0, 2).map((s) => [s.method, s.url, s.contentType])).toEqual([
      ['POST', 'https://registry.example/token', 'text/plain'],
      ['GET', 'https://registry.example/token2', null],
    ])
    const res = await guarded(post('https://registry.example/upload'))
    expect(res.status).toBe(307)
    expect(seen).toHaveLength(3)
  })

  test('at most 10 redirects, then an error in Go words', async () => {
    const routes: Record<string, () => Response> = {}
    for (let i = 0; i < 11; i++) routes[`https://registry.example/${i}`] = redirect(`/${i + 1}`, 302)
    const { fetch, seen } = network(routes)
    const err = await refusal(withNetworkGuard(fetch, policy)(new Request('https://registry.example/0')))
    expect(err!.message).toBe('stopped after 10 redirects')
    expect(seen).toHaveLength(11)
  })

  test('redirects to other schemes are refused', async () => {
    const { fetch } = network({ 'https://registry.example/x': redirect('file:///etc/passwd', 302) })
    const err = await refusal(withNetworkGuard(fetch, policy)(new Request('https://registry.example/x')))
    expect(err!.message).toBe(
      'redirected to file:///etc/passwd: refusing to connect over file:: only http and https'
    )
  })

  test('a public name that resolves to a private address is refused (injected resolver)', async () => {
    const { fetch, seen } = network({})
    const asked: string[] = []
    const resolve = async (host: string) => {
      asked.push(host)
      return host === 'rebind.example' ? ['93.184.216.34', '10.0.0.7'] : ['93.184.216.34']
    }
    const guarded = withNetworkGuard(fetch, policy, { resolve })
    const err = await refusal(guarded(new Request('https://rebind.example/v2/')))
    expect(err!.message).toBe(
      'refusing to connect to rebind.example (10.0.0.7): a private address; ' +
        'list it in upstream.privateHosts to allow it'
    )
    expect((await guarded(new Request('https://public.example/v2/'))).status).toBe(200)
    // Configured hosts and literal addresses are not looked up.
    await guarded(new Request('https://registry.example/v2/'))
    await guarded(new Request('http://10.9.0.1/'))
    expect(asked).toEqual(['rebind.example', 'public.example'])
    expect(seen.map((s) => s.url)).toEqual([
      'https://public.example/v2/',
      'https://registry.example/v2/',
      'http://10.9.0.1/',
    ])
  })

  test("a refusal raised inside the runtime's fetch (Node's connect-time check) comes out unwrapped", async () => {
    const inner = new NetworkRefusedError('refusing to connect to cdn.example (10.0.0.8): a private address')
    const fetch: Fetch = async () => {
      throw new TypeError('fetch failed', { cause: inner })
    }
    const err = await refusal(withNetworkGuard(fetch, policy)(new Request('https://cdn.example/')))
    expect(err).toBeInstanceOf(NetworkRefusedError)
    expect(err!.message).toBe(inner.message)
  })
})
