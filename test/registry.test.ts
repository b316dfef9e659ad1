/**
 * The registry client against the real upstream (CNCF distribution) in open, basic and token
 * mode: resolution, manifests of every kind, verified blob downloads, the token flow and its
 * cache, and Docker's wording for refusals.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { sha256, DigestMismatchError, type Digest } from '../src/oci/digest.ts'
import { ImageManifestSchema, IndexSchema } from '../src/oci/manifest.ts'
import { MediaType } from '../src/oci/media-types.ts'
import { createRegistryClient, type RegistryClientOptions } from '../src/registry/client.ts'
import { lookupPullEndpoints, shouldFallback, type Endpoint } from '../src/registry/endpoints.ts'
import { RegistryError } from '../src/registry/errors.ts'
import type { Fetch } from '../src/registry/fetch.ts'
import { freePort } from './support/ports.ts'
import { PASSWORD, testbed, USER, type Testbed } from './support/testbed.ts'

const alice = { username: USER, password: PASSWORD }
const noWait = async () => {}
const client = (o: Partial<RegistryClientOptions> = {}) =>
  createRegistryClient({ fetch: (r) => fetch(r), sleep: noWait, ...o })
const at = (tb: Testbed): Endpoint => ({ url: tb.url, mirror: false })
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

async function drain(
  stream: ReadableStream<Uint8Array>
): Promise<{ size: number; digest: Digest }> {
  const chunks: Uint8Array[] = []
  for await (const c of stream) chunks.push(c)
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
  let o = 0
  for (const c of chunks) (all.set(c, o), (o += c.byteLength))
  return { size: all.byteLength, digest: sha256(all) }
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

describe('open registry', () => {
  let tb: Testbed
  beforeAll(async () => {
    tb = await testbed('open')
  }, 120_000)

  test('resolve by HEAD gives the same digest the registry announces', async () => {
    const seen: string[] = []
    const agents = new Set<string | null>()
    const c = client({
      userAgent: 'edgepull-test/1',
      fetch: (r) => {
        seen.push(`${r.method} ${new URL(r.url).pathname}`)
        agents.add(r.headers.get('user-agent'))
        return fetch(r)
      },
    })
    const repo = c.repository(at(tb), 'library/busybox')
    const resolved = await repo.resolve('latest')
    const head = await fetch(`${tb.url}/v2/library/busybox/manifests/latest`, {
      method: 'HEAD',
      headers: { accept: MediaType.ociManifest },
    })
    expect(resolved.digest).toBe(head.headers.get('docker-content-digest') as Digest)
    expect(resolved.mediaType).toBe(MediaType.ociManifest)
    expect(resolved.size).toBe(Number(head.headers.get('content-length')))
    expect(seen).toEqual(['GET /v2/', 'HEAD /v2/library/busybox/manifests/latest'])
    await repo.resolve('latest')
    expect(seen.filter((s) => s === 'GET /v2/')).toHaveLength(1) // pinged once per endpoint
    expect([...agents]).toEqual(['edgepull-test/1'])
  })

  test('manifest by tag and by digest: OCI image manifest', async () => {
    const repo = client().repository(at(tb), 'library/busybox')
    const byTag = await repo.manifest('latest')
    expect(byTag.mediaType).toBe(MediaType.ociManifest)
    expect(byTag.digest).toBe(sha256(byTag.bytes))
    const parsed = ImageManifestSchema.parse(JSON.parse(text(byTag.bytes)))
    expect(parsed.layers.length).toBeGreaterThan(0)
    const byDigest = await repo.manifest(byTag.digest)
    expect(byDigest.bytes).toEqual(byTag.bytes)
    expect((await repo.resolve(byTag.digest)).digest).toBe(byTag.digest)
  })

  test('manifest with Docker schema 2 media types', async () => {
    const repo = client().repository(at(tb), 'library/busybox-v2s2')
    const m = await repo.manifest('latest')
    expect(m.mediaType).toBe(MediaType.dockerManifest)
    expect((await repo.manifest(m.digest)).bytes).toEqual(m.bytes)
    expect((await repo.resolve('latest')).mediaType).toBe(MediaType.dockerManifest)
    const parsed = ImageManifestSchema.parse(JSON.parse(text(m.bytes)))
    expect(parsed.config.mediaType).toBe(MediaType.dockerConfig)
  })

  test('multiarch index and the manifests it lists', async () => {
    const repo = client().repository(at(tb), 'library/multiarch')
    const top = await repo.resolve('latest')
    expect(top.mediaType).toBe(MediaType.ociIndex)
    const index = await repo.manifest(top.digest)
    const parsed = IndexSchema.parse(JSON.parse(text(index.bytes)))
    const platforms = parsed.manifests.map((d) =>
      [d.platform?.os, d.platform?.architecture, d.platform?.variant].filter(Boolean).join('/')
    )
    expect(platforms).toEqual(['linux/amd64', 'linux/arm64/v8', 'unknown/unknown'])
    for (const d of parsed.manifests) {
      const child = await repo.manifest(d.digest)
      expect(child.digest).toBe(d.digest as Digest)
      expect(child.bytes.byteLength).toBe(d.size)
    }
  })

  test('unknown tag and unknown repository in Docker words', async () => {
    const c = client()
    const missing = await rejection(c.repository(at(tb), 'library/busybox').manifest('nope'))
    expect(missing).toBeInstanceOf(RegistryError)
    expect((missing as RegistryError).status).toBe(404)
    expect((missing as RegistryError).code).toBe('MANIFEST_UNKNOWN')
    expect((missing as RegistryError).dockerText()).toBe('manifest unknown: manifest unknown')
    expect((missing as RegistryError).message).toStartWith(
      `[GET] "${tb.url}/v2/library/busybox/manifests/nope": 404 Not Found`
    )
    const resolveMissing = await rejection(c.repository(at(tb), 'library/busybox').resolve('nope'))
    expect((resolveMissing as RegistryError).dockerText()).toBe(
      'manifest unknown: manifest unknown'
    )
    // distribution answers MANIFEST_UNKNOWN for manifests of unknown repositories; tags tell.
    const repo = await rejection(c.repository(at(tb), 'library/nothing-here').tags())
    expect((repo as RegistryError).code).toBe('NAME_UNKNOWN')
    expect((repo as RegistryError).dockerText()).toBe(
      'name unknown: repository name not known to registry'
    )
  })

  test('a manifest fetched by a digest it does not have is refused', async () => {
    const repo = client().repository(at(tb), 'library/busybox')
    const real = await repo.manifest('latest')
    // A fetch that serves busybox's manifest whatever digest is asked for.
    const lying: Fetch = (r) =>
      fetch(
        r.url.includes('/manifests/sha256:')
          ? new Request(r.url.replace(/sha256:[a-f0-9]+$/, 'latest'), r)
          : r
      )
    const wrong = sha256('something else')
    const err = await rejection(
      client({ fetch: lying }).repository(at(tb), 'library/busybox').manifest(wrong)
    )
    expect(err).toBeInstanceOf(DigestMismatchError)
    expect((err as Error).message).toBe(`manifest verification failed for digest ${wrong}`)
    expect(real.digest).not.toBe(wrong)
  })

  test('the 64 MiB layer downloads verified, with progress', async () => {
    const repo = client().repository(at(tb), 'library/big')
    const manifest = ImageManifestSchema.parse(
      JSON.parse(text((await repo.manifest('latest')).bytes))
    )
    const layer = manifest.layers[0]
    expect(layer.size).toBeGreaterThan(64 * 1024 * 1024) // incompressible data, gzipped
    let progress = 0
    const got = await drain(
      await repo.blob(layer.digest as Digest, {
        size: layer.size,
        onProgress: (n) => (progress = n),
      })
    )
    expect(got).toEqual({ size: layer.size, digest: layer.digest as Digest })
    expect(progress).toBe(layer.size)
  }, 60_000)

  test('a blob announced with the wrong size fails verification', async () => {
    const repo = client().repository(at(tb), 'library/busybox')
    const manifest = ImageManifestSchema.parse(
      JSON.parse(text((await repo.manifest('latest')).bytes))
    )
    const err = await rejection(
      drain(await repo.blob(manifest.config.digest as Digest, { size: manifest.config.size + 1 }))
    )
    expect(err).toBeInstanceOf(DigestMismatchError)
    const unknown = await rejection(repo.blob(sha256('no such blob')))
    expect((unknown as RegistryError).code).toBe('BLOB_UNKNOWN')
    expect((unknown as RegistryError).dockerText()).toBe('blob unknown: blob unknown to registry')
  })

  test('aborting a blob download stops it promptly', async () => {
    const repo = client().repository(at(tb), 'library/big')
    const manifest = ImageManifestSchema.parse(
      JSON.parse(text((await repo.manifest('latest')).bytes))
    )
    const ac = new AbortController()
    const reader = (
      await repo.blob(manifest.layers[0].digest as Digest, { signal: ac.signal })
    ).getReader()
    await reader.read()
    const started = Date.now()
    ac.abort()
    const err = await rejection(
      (async () => {
        for (;;) if ((await reader.read()).done) return
      })()
    )
    expect((err as Error).name).toBe('AbortError')
    expect(Date.now() - started).toBeLessThan(1000)
    expect(
      (
        (await rejection(
          repo.blob(manifest.layers[0].digest as Digest, { signal: ac.signal })
        )) as Error
      ).name
    ).toBe('AbortError')
  })

  test('blobResponse passes the upstream response through, Range included', async () => {
    const repo = client().repository(at(tb), 'library/busybox')
    const manifest = ImageManifestSchema.parse(
      JSON.parse(text((await repo.manifest('latest')).bytes))
    )
    const res = await repo.blobResponse(manifest.config.digest as Digest, { range: 'bytes=0-9' })
    expect(res.status).toBe(206)
    expect((await res.arrayBuffer()).byteLength).toBe(10)
    const head = await repo.blobResponse(manifest.config.digest as Digest, { method: 'HEAD' })
    expect(Number(head.headers.get('content-length'))).toBe(manifest.config.size)
    expect((await repo.blobResponse(sha256('none'))).status).toBe(404)
  })

  test('tags, and the catalog page by page', async () => {
    const c = client()
    expect(await c.repository(at(tb), 'library/layered').tags()).toEqual({
      name: 'library/layered',
      tags: ['latest', 'v1'],
    })
    const all = await c.catalog(at(tb))
    expect(all.repositories).toContain('private/busybox')
    expect(all.next).toBeUndefined()
    const paged: string[] = []
    let page = await c.catalog(at(tb), { n: 3 })
    for (;;) {
      paged.push(...page.repositories)
      if (!page.next) break
      expect(page.next.n).toBe(3)
      page = await c.catalog(at(tb), page.next)
    }
    expect(paged).toEqual(all.repositories)
  })

  test('loopback hosts: https first, then the http fallback, as dockerd', async () => {
    const endpoints = lookupPullEndpoints(tb.host, {})
    expect(endpoints.map((e) => e.url)).toEqual([`https://${tb.host}`, tb.url])
    const c = client()
    const err = await rejection(c.repository(endpoints[0], 'library/busybox').resolve('latest'))
    expect(err).toBeInstanceOf(RegistryError)
    expect((err as RegistryError).dockerText()).toBe(
      `Get "https://${tb.host}/v2/": http: server gave HTTP response to HTTPS client`
    )
    expect(shouldFallback(err, endpoints[0], endpoints[1])).toBe(true)
    expect((await c.repository(endpoints[1], 'library/busybox').resolve('latest')).mediaType).toBe(
      MediaType.ociManifest
    )
  })

  test("a closed port gives Go's connection refused text", async () => {
    const port = await freePort()
    const err = await rejection(
      client()
        .repository({ url: `http://127.0.0.1:${port}`, mirror: false }, 'library/busybox')
        .manifest('latest')
    )
    expect((err as RegistryError).transport).toBe(true)
    expect((err as RegistryError).dockerText()).toBe(
      `Get "http://127.0.0.1:${port}/v2/": dial tcp 127.0.0.1:${port}: connect: connection refused`
    )
    expect(shouldFallback(err, { url: `http://127.0.0.1:${port}`, mirror: false })).toBe(true)
  })
})

describe('token registry', () => {
  let tb: Testbed
  const issued = async () =>
    ((await (await fetch(`http://127.0.0.1:${tb.port + 1}/stats`)).json()) as { issued: number })
      .issued
  beforeAll(async () => {
    tb = await testbed('token')
  }, 120_000)

  test('one token serves many requests, concurrent ones included', async () => {
    const before = await issued()
    const repo = client().repository(at(tb), 'library/many')
    const m = await repo.manifest('latest')
    await repo.resolve('latest')
    await repo.resolve(m.digest)
    const manifest = ImageManifestSchema.parse(JSON.parse(text(m.bytes)))
    expect(manifest.layers).toHaveLength(12)
    const layers = await Promise.all(
      manifest.layers.map(async (l) => drain(await repo.blob(l.digest as Digest, { size: l.size })))
    )
    expect(layers.map((l) => l.digest)).toEqual(manifest.layers.map((l) => l.digest as Digest))
    expect(await issued()).toBe(before + 1)
  })

  test('private repositories: DENIED anonymously, allowed for alice', async () => {
    const c = client()
    const err = await rejection(c.repository(at(tb), 'private/busybox').manifest('latest'))
    expect(err).toBeInstanceOf(RegistryError)
    expect((err as RegistryError).status).toBe(401)
    expect((err as RegistryError).code).toBe('DENIED')
    expect((err as RegistryError).dockerText()).toBe(
      'denied: requested access to the resource is denied'
    )
    expect(shouldFallback(err, at(tb))).toBe(false)
    expect(shouldFallback(err, { ...at(tb), mirror: true })).toBe(true)
    const resolveErr = await rejection(c.repository(at(tb), 'private/busybox').resolve('latest'))
    expect((resolveErr as RegistryError).code).toBe('DENIED')

    const repo = c.repository(at(tb), 'private/busybox', { credentials: alice })
    const m = await repo.manifest('latest')
    expect(m.mediaType).toBe(MediaType.ociManifest)
    const manifest = ImageManifestSchema.parse(JSON.parse(text(m.bytes)))
    expect((await drain(await repo.blob(manifest.layers[0].digest as Digest))).digest).toBe(
      manifest.layers[0].digest as Digest
    )
  })

  test("wrong password: the token server's refusal, wrapped as Go does", async () => {
    const repo = client().repository(at(tb), 'library/busybox', {
      credentials: { username: USER, password: 'wrong' },
    })
    const err = (await rejection(repo.manifest('latest'))) as RegistryError
    expect(err.code).toBe('UNAUTHORIZED')
    expect(err.dockerText()).toBe(
      `Get "${tb.url}/v2/library/busybox/manifests/latest": unauthorized: incorrect username or password`
    )
    expect(err.url).toStartWith(`http://127.0.0.1:${tb.port + 1}/token?`)
  })

  test('a rejected token is replaced once', async () => {
    let spoiled = 0
    const spoilFirst: Fetch = (r) => {
      if (spoiled === 0 && r.headers.get('authorization')?.startsWith('Bearer ')) {
        spoiled++
        const headers = new Headers(r.headers)
        headers.set('authorization', 'Bearer not-a-token')
        return fetch(new Request(r, { headers }))
      }
      return fetch(r)
    }
    const before = await issued()
    const repo = client({ fetch: spoilFirst }).repository(at(tb), 'library/busybox')
    expect((await repo.manifest('latest')).mediaType).toBe(MediaType.ociManifest)
    expect(spoiled).toBe(1)
    expect(await issued()).toBe(before + 2)
  })

  test('a registry token from AuthConfig is used as is', async () => {
    const tokenRes = await fetch(
      `http://127.0.0.1:${tb.port + 1}/token?service=testbed-registry&scope=repository:private/busybox:pull`,
      { headers: { authorization: `Basic ${btoa(`${USER}:${PASSWORD}`)}` } }
    )
    const { token } = (await tokenRes.json()) as { token: string }
    const before = await issued()
    const repo = client().repository(at(tb), 'private/busybox', {
      credentials: { registryToken: token },
    })
    expect((await repo.resolve('latest')).mediaType).toBe(MediaType.ociManifest)
    expect(await issued()).toBe(before)
  })

  test('an identity token is exchanged with an OAuth2 refresh-token POST', async () => {
    const posts: string[] = []
    // The testbed's token server reads parameters from the query string only, so the form
    // is recorded and handed on as a query; the token still comes from the real server.
    const recording: Fetch = async (r) => {
      if (r.method !== 'POST') return fetch(r)
      const form = await r.text()
      posts.push(form)
      const url = new URL(r.url)
      for (const [k, v] of new URLSearchParams(form))
        if (k === 'service' || k === 'scope') url.searchParams.set(k, v)
      return fetch(url)
    }
    const repo = client({ fetch: recording }).repository(at(tb), 'library/busybox', {
      credentials: { identityToken: 'refresh-me' },
    })
    expect((await repo.resolve('latest')).mediaType).toBe(MediaType.ociManifest)
    expect(posts).toHaveLength(1)
    expect(Object.fromEntries(new URLSearchParams(posts[0]))).toEqual({
      grant_type: 'refresh_token',
      client_id: 'edgepull',
      service: 'testbed-registry',
      scope: 'repository:library/busybox:pull',
      refresh_token: 'refresh-me',
    })
  })

  test('a token is reused until it expires, then replaced', async () => {
    let now = Date.now()
    const repo = client({ now: () => now }).repository(at(tb), 'library/busybox')
    const before = await issued()
    await repo.resolve('latest')
    now += 200_000 // the token server grants 300 s
    await repo.resolve('latest')
    expect(await issued()).toBe(before + 1)
    now += 200_000
    await repo.resolve('latest')
    expect(await issued()).toBe(before + 2)
  })

  test('tokens are per identity: alice and anonymous do not share one', async () => {
    const c = client()
    const before = await issued()
    await c.repository(at(tb), 'library/layered').resolve('latest')
    await c.repository(at(tb), 'library/layered', { credentials: alice }).resolve('latest')
    await c.repository(at(tb), 'library/layered', { credentials: alice }).resolve('v1')
    expect(await issued()).toBe(before + 2)
  })
})

describe('basic auth registry', () => {
  let tb: Testbed
  beforeAll(async () => {
    tb = await testbed('basic')
  }, 120_000)

  test('without credentials: no basic auth credentials, in Go words', async () => {
    const err = (await rejection(
      client().repository(at(tb), 'library/busybox').resolve('latest')
    )) as RegistryError
    expect(err).toBeInstanceOf(RegistryError)
    expect(err.dockerText()).toBe(
      `Head "${tb.url}/v2/library/busybox/manifests/latest": no basic auth credentials`
    )
  })

  test('with credentials: Basic on every request', async () => {
    const auths: (string | null)[] = []
    const c = client({ fetch: (r) => (auths.push(r.headers.get('authorization')), fetch(r)) })
    const repo = c.repository(at(tb), 'library/busybox', { credentials: alice })
    const m = await repo.manifest('latest')
    const manifest = ImageManifestSchema.parse(JSON.parse(text(m.bytes)))
    await drain(await repo.blob(manifest.config.digest as Digest, { size: manifest.config.size }))
    expect(auths).toEqual([
      null,
      `Basic ${btoa(`${USER}:${PASSWORD}`)}`,
      `Basic ${btoa(`${USER}:${PASSWORD}`)}`,
    ])
  })

  test('with a wrong password: unauthorized', async () => {
    const repo = client().repository(at(tb), 'library/busybox', {
      credentials: { username: USER, password: 'nope' },
    })
    const err = (await rejection(repo.manifest('latest'))) as RegistryError
    expect(err.status).toBe(401)
    expect(err.code).toBe('UNAUTHORIZED')
    expect(err.dockerText()).toBe('unauthorized: authentication required')
  })
})
