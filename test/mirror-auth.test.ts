/**
 * Private stays private, against the token-mode testbed (anonymous pulls of everything except
 * private/*; alice/secret pulls everything): the mirror's own challenge and token endpoint,
 * the caller's credentials used upstream, skopeo logging in as usual, and cached private
 * content refused to callers the upstream would refuse, with no byte of it in the answer.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256, type Digest } from '../src/oci/digest.ts'
import { blobKey } from '../src/storage/keys.ts'
import { countingProxy, type CountingProxy } from './support/counting-proxy.ts'
import { startInProcess, type InProcess } from './support/edgepull.ts'
import { PASSWORD, testbed, USER, type Testbed } from './support/testbed.ts'
import { MANIFEST_ACCEPT as ACCEPT } from '../src/oci/media-types.ts'

const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`
const ALICE = basic(USER, PASSWORD)
const WRONG = basic(USER, 'not-the-password')

// Everything the process prints while these tests run: credentials must never be in it.
const printed: string[] = []
const originals = { log: console.log, warn: console.warn, error: console.error }

let tt: Testbed
let proxy: CountingProxy
let ep: InProcess
const work = mkdtempSync(join(tmpdir(), 'edgepull-auth-'))

beforeAll(async () => {
  for (const level of ['log', 'warn', 'error'] as const) {
    console[level] = (...args: unknown[]) => {
      const text = (a: unknown) =>
        a instanceof Error ? `${a.stack} ${String(a.cause)}` : String(a)
      printed.push(args.map(text).join(' '))
      originals[level](...args)
    }
  }
  tt = await testbed('token')
  proxy = await countingProxy(tt.url)
  ep = await startInProcess({ registries: { 'docker.io': { endpoint: proxy.url } }, store: 'fs' })
}, 120_000)
afterAll(async () => {
  Object.assign(console, originals)
  await ep?.stop()
  await proxy?.stop()
  rmSync(work, { recursive: true, force: true })
})

/** A token from the testbed's own token server, to read the upstream directly. */
async function upstreamToken(repo: string, auth?: string): Promise<string> {
  const challenge = (await fetch(`${tt.url}/v2/`)).headers.get('www-authenticate') ?? ''
  const { realm, service } = params(challenge)
  const query = new URLSearchParams({ service: service!, scope: `repository:${repo}:pull` })
  const res = await fetch(`${realm}?${query}`, { headers: auth ? { authorization: auth } : {} })
  return `Bearer ${((await res.json()) as { token: string }).token}`
}

async function upstreamManifest(repo: string, auth?: string) {
  const headers = { accept: ACCEPT, authorization: await upstreamToken(repo, auth) }
  const res = await fetch(`${tt.url}/v2/${repo}/manifests/latest`, { headers })
  expect(res.status).toBe(200)
  const bytes = new Uint8Array(await res.arrayBuffer())
  const json = JSON.parse(new TextDecoder().decode(bytes))
  return { bytes, digest: res.headers.get('docker-content-digest') as Digest, json }
}

/** `Bearer realm="…",service="…"` → its parameters. */
function params(challenge: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of challenge.matchAll(/(\w+)="([^"]*)"/g)) out[m[1]!] = m[2]!
  return out
}

const get = (path: string, auth?: string, init: RequestInit = {}) =>
  fetch(`${ep.url}${path}`, {
    ...init,
    headers: { accept: ACCEPT, ...(auth ? { authorization: auth } : {}), ...init.headers },
  })

/** What docker does: follow the challenge to the realm, with Basic credentials if any. */
async function dockerToken(challenge: string, auth?: string): Promise<string> {
  const p = params(challenge)
  const query = new URLSearchParams({ service: p.service! })
  if (p.scope) query.set('scope', p.scope)
  if (auth) query.set('account', USER)
  const res = await fetch(`${p.realm}?${query}`, { headers: auth ? { authorization: auth } : {} })
  expect(res.status).toBe(200)
  return `Bearer ${((await res.json()) as { token: string }).token}`
}

/** A refusal: 401, the mirror's challenge, the OCI envelope, and nothing of the content. */
async function expectRefused(res: Response, head = false): Promise<void> {
  expect(res.status).toBe(401)
  const challenge = params(res.headers.get('www-authenticate') ?? '')
  expect(challenge).toMatchObject({ realm: `${ep.url}/v2/token`, service: 'edgepull' })
  expect(challenge.scope).toBe('repository:private/busybox:pull')
  if (head) {
    expect((await res.arrayBuffer()).byteLength).toBe(0)
    return
  }
  expect(res.headers.get('content-type')).toStartWith('application/json')
  const body = (await res.json()) as { errors: Array<{ code: string }> }
  expect(body.errors.map((e) => e.code)).toEqual(['UNAUTHORIZED'])
}

function skopeoCopy(name: string, creds: string[]): Promise<string> {
  const dir = join(work, `out-${Math.random().toString(36).slice(2)}`)
  const args = ['copy', '--quiet', '--src-tls-verify=false', ...creds]
  args.push(`docker://${ep.host}/${name}`, `dir:${dir}`)
  return new Promise((resolve, reject) =>
    execFile('skopeo', args, { timeout: 60_000 }, (err, _out, stderr) =>
      err ? reject(new Error(stderr || err.message)) : resolve(dir)
    )
  )
}
const manifestOnDisk = (dir: string) => new Uint8Array(readFileSync(join(dir, 'manifest.json')))

describe('the challenge and /v2/token', () => {
  test('/v2/ challenges callers without credentials to this mirror\'s token endpoint', async () => {
    const res = await get('/v2/')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer realm="${ep.url}/v2/token",service="edgepull"`
    )
    expect(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe(
      'UNAUTHORIZED'
    )
    // Behind a TLS-terminating proxy the realm is where clients reach the mirror.
    const proxied = await get('/v2/', undefined, {
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'mirror.example' },
    })
    expect(params(proxied.headers.get('www-authenticate')!).realm).toBe(
      'https://mirror.example/v2/token'
    )
  })

  test('tokens are issued with and without credentials, and carry them sealed', async () => {
    const before = Date.now()
    const anonymous = await get('/v2/token?service=edgepull')
    expect(anonymous.status).toBe(200)
    const a = (await anonymous.json()) as Record<string, unknown>
    expect(Object.keys(a).sort()).toEqual(['access_token', 'expires_in', 'issued_at', 'token'])
    expect(a.access_token).toBe(a.token)
    expect(a.expires_in).toBe(300)
    expect(Date.parse(a.issued_at as string)).toBeGreaterThanOrEqual(before - 1000)

    const scope = 'repository:private/busybox:pull'
    const withCreds = await get(`/v2/token?service=edgepull&scope=${scope}&account=alice`, ALICE)
    const { token } = (await withCreds.json()) as { token: string }
    const opened = atob(token.replace(/-/g, '+').replace(/_/g, '/'))
    expect(opened).not.toContain(PASSWORD)
    expect(opened).not.toContain(USER)

    for (const auth of [`Bearer ${a.token}`, `Bearer ${token}`, ALICE]) {
      expect((await get('/v2/', auth)).status).toBe(200)
    }
    // A forged or damaged token is a 401 with the challenge again.
    const damaged = `Bearer ${token.slice(0, -4)}AAAA`
    for (const auth of [damaged, 'Bearer not-a-token', 'Basic !!!']) {
      const res = await get('/v2/', auth)
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toStartWith('Bearer realm=')
    }
  })

  test('OAuth2 password grants (containerd) get a token too', async () => {
    const body = new URLSearchParams({
      grant_type: 'password',
      username: USER,
      password: PASSWORD,
      service: 'edgepull',
      scope: 'repository:private/busybox:pull',
      client_id: 'containerd-client',
    })
    const res = await fetch(`${ep.url}/v2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    })
    expect(res.status).toBe(200)
    const { access_token } = (await res.json()) as { access_token: string }
    const read = await get('/v2/private/busybox/manifests/latest', `Bearer ${access_token}`)
    expect(read.status).toBe(200)
    await read.arrayBuffer()
  }, 60_000)
})

describe('private/busybox', () => {
  test('docker\'s token flow reads it with credentials, byte for byte', async () => {
    const up = await upstreamManifest('private/busybox', ALICE)
    // Not cached: upstream's refusal, answered with the mirror's challenge.
    await expectRefused(await get('/v2/private/busybox/tags/list'))
    const path = '/v2/private/busybox/manifests/latest'
    const first = await get(path)
    await expectRefused(first)
    const token = await dockerToken(first.headers.get('www-authenticate')!, ALICE)
    const res = await get(path, token)
    expect(res.status).toBe(200)
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(up.bytes)
    expect(res.headers.get('docker-content-digest')).toBe(up.digest)
    const layers = up.json.layers.map((l: { digest: string }) => l.digest)
    for (const d of [up.json.config.digest, ...layers]) {
      const blob = await get(`/v2/private/busybox/blobs/${d}`, token)
      expect(blob.status).toBe(200)
      expect(sha256(new Uint8Array(await blob.arrayBuffer())) as string).toBe(d)
    }
  }, 60_000)

  test('Basic credentials are accepted directly', async () => {
    const up = await upstreamManifest('private/busybox', ALICE)
    const res = await get(`/v2/private/busybox/manifests/${up.digest}`, ALICE)
    expect(res.status).toBe(200)
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(up.bytes)
  }, 60_000)

  test('once cached, it is refused without or with wrong credentials: 401, no bytes', async () => {
    const up = await upstreamManifest('private/busybox', ALICE)
    const layer = up.json.layers[0].digest as Digest
    // It is in the store: what follows is about the cache, not upstream.
    expect(await ep.driver.stat(blobKey(up.digest))).not.toBeNull()
    expect(await ep.driver.stat(blobKey(layer))).not.toBeNull()

    const realm = `Bearer realm="${ep.url}/v2/token",service="edgepull"`
    const wrongToken = await dockerToken(realm, WRONG)
    for (const auth of [undefined, WRONG, wrongToken]) {
      await expectRefused(await get('/v2/private/busybox/manifests/latest', auth))
      await expectRefused(await get(`/v2/private/busybox/manifests/${up.digest}`, auth))
      await expectRefused(
        await get(`/v2/private/busybox/manifests/${up.digest}`, auth, { method: 'HEAD' }),
        true
      )
      await expectRefused(await get(`/v2/private/busybox/blobs/${layer}`, auth))
      await expectRefused(
        await get(`/v2/private/busybox/blobs/${layer}`, auth, { headers: { range: 'bytes=0-9' } })
      )
      const head = await get(`/v2/private/busybox/blobs/${layer}`, auth, { method: 'HEAD' })
      await expectRefused(head, true)
    }
    // The rightful caller still reads it, from the cache: upstream confirmed her a moment ago.
    const gets = proxy.count('GET', '/private/busybox/manifests/latest')
    const seen = proxy.seen.length
    const res = await get('/v2/private/busybox/manifests/latest', ALICE)
    expect(res.status).toBe(200)
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(up.bytes)
    expect(proxy.count('GET', '/private/busybox/manifests/latest')).toBe(gets)
    expect(proxy.seen.length).toBe(seen)
  }, 60_000)

  test('a blob cached through it is no key to a public repository that lacks it', async () => {
    const up = await upstreamManifest('private/busybox', ALICE)
    const layer = up.json.layers[0].digest as Digest
    expect(await ep.driver.stat(blobKey(layer))).not.toBeNull()
    for (const auth of [undefined, ALICE]) {
      const blob = await get(`/v2/library/big/blobs/${layer}`, auth)
      expect(blob.status).toBe(404)
      expect(((await blob.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe(
        'BLOB_UNKNOWN'
      )
      const manifest = await get(`/v2/library/big/manifests/${up.digest}`, auth)
      expect(manifest.status).toBe(404)
      await manifest.arrayBuffer()
    }
  }, 60_000)

  test('while upstream is down, it is served only to a caller confirmed a moment ago', async () => {
    const up = await upstreamManifest('private/busybox', ALICE)
    const pub = await upstreamManifest('library/busybox')
    expect((await get('/v2/library/busybox/manifests/latest')).status).toBe(200)
    expect((await get('/v2/private/busybox/manifests/latest', ALICE)).status).toBe(200)
    proxy.mode = 'unavailable'
    try {
      const refused = await get(`/v2/private/busybox/manifests/${up.digest}`)
      expect(refused.status).toBeGreaterThanOrEqual(400)
      expect(JSON.stringify(await refused.json())).not.toContain('schemaVersion')
      const alice = await get(`/v2/private/busybox/manifests/${up.digest}`, ALICE)
      expect(new Uint8Array(await alice.arrayBuffer())).toEqual(up.bytes)
      // A public repository is served to anyone: anonymous pulls worked a moment ago.
      const anyone = await get(`/v2/library/busybox/manifests/${pub.digest}`)
      expect(new Uint8Array(await anyone.arrayBuffer())).toEqual(pub.bytes)
    } finally {
      proxy.mode = 'forward'
    }
  }, 60_000)
})

test('concurrent callers share no refusal: anonymous is refused, alice served', async () => {
  const up = await upstreamManifest('private/busybox', ALICE)
  const cold = await startInProcess({ registries: { 'docker.io': { endpoint: proxy.url } } })
  try {
    const layer = up.json.layers[0].digest as Digest
    const ask = (path: string, auth?: string) =>
      fetch(`${cold.url}${path}`, {
        headers: { accept: ACCEPT, ...(auth ? { authorization: auth } : {}) },
      })
    const paths = ['/v2/private/busybox/manifests/latest', `/v2/private/busybox/blobs/${layer}`]
    for (const path of paths) {
      // The anonymous request goes first, and alice's arrives while it is out.
      const [anonymous, alice] = await Promise.all([ask(path), ask(path, ALICE)])
      expect([path, anonymous.status, alice.status]).toEqual([path, 401, 200])
      await anonymous.arrayBuffer()
      await alice.arrayBuffer()
    }
  } finally {
    await cold.stop()
  }
}, 60_000)

describe('skopeo logging in as usual', () => {
  test('copies private/busybox with --src-creds, exact bytes; refused without them', async () => {
    const up = await upstreamManifest('private/busybox', ALICE)
    const dir = await skopeoCopy('private/busybox', ['--src-creds', `${USER}:${PASSWORD}`])
    expect(manifestOnDisk(dir)).toEqual(up.bytes)
    const anonymous = skopeoCopy('private/busybox', ['--src-no-creds'])
    await expect(anonymous).rejects.toThrow(/unauthorized|authentication required/i)
    const wrong = skopeoCopy('private/busybox', ['--src-creds', `${USER}:wrong`])
    await expect(wrong).rejects.toThrow(/unauthorized|authentication required/i)
  }, 120_000)

  test('public images are still pulled anonymously', async () => {
    const dir = await skopeoCopy('busybox', ['--src-no-creds'])
    expect(manifestOnDisk(dir)).toEqual((await upstreamManifest('library/busybox')).bytes)
    const layered = await skopeoCopy('library/layered', ['--src-no-creds'])
    expect(manifestOnDisk(layered)).toEqual((await upstreamManifest('library/layered')).bytes)
  }, 120_000)
})

test('no credential reached the logs', () => {
  const text = printed.join('\n')
  for (const secret of [PASSWORD, 'not-the-password', btoa(`${USER}:${PASSWORD}`)]) {
    expect(text).not.toContain(secret)
  }
})
