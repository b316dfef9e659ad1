/**
 * Faults a real registry cannot produce on demand, from in-process servers: connections
 * reset mid-blob (resumed with Range), servers that ignore Range, flipped bytes, 429 with
 * Retry-After, 5xx bursts, and schema 1 manifests.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { sha256, DigestMismatchError, type Digest } from '../src/oci/digest.ts'
import { MediaType } from '../src/oci/media-types.ts'
import { createRegistryClient } from '../src/registry/client.ts'
import { shouldFallback, type Endpoint } from '../src/registry/endpoints.ts'
import { RegistryError, UnsupportedManifestError } from '../src/registry/errors.ts'

const servers: Array<{ stop(force?: boolean): void }> = []
afterEach(() => {
  for (const s of servers.splice(0)) s.stop(true)
})

type Handler = (req: Request, url: URL) => Response | Promise<Response>

/** A registry root whose `/v2/` answers 200 and whose other paths `handle` answers. */
function fake(handle: Handler): Endpoint {
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req) {
      const url = new URL(req.url)
      return url.pathname === '/v2/' ? Response.json({}) : handle(req, url)
    },
  })
  servers.push(server)
  return { url: `http://127.0.0.1:${server.port}`, mirror: false }
}

/** Deterministic, incompressible-looking bytes. */
function blobBytes(size: number): Uint8Array {
  const out = new Uint8Array(size)
  let x = 0x12345678
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/** A body that sends `n` bytes and then drops the connection. */
function breaksAfter(bytes: Uint8Array, n: number): ReadableStream<Uint8Array> {
  let sent = false
  return new ReadableStream({
    async pull(c) {
      // Erroring with no reason makes Bun drop the connection without logging anything.
      if (sent) return c.error()
      c.enqueue(bytes.slice(0, n))
      sent = true
      await Bun.sleep(20)
    },
  })
}

/** Serves `bytes` from `Range: bytes=<n>-` with a 206. */
function partial(bytes: Uint8Array, range: string): Response {
  const start = Number(/^bytes=(\d+)-$/.exec(range)![1])
  return new Response(bytes.slice(start), {
    status: 206,
    headers: { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` },
  })
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

function recordingClient(attempts = 5) {
  const sleeps: number[] = []
  const client = createRegistryClient({
    fetch: (r) => fetch(r),
    retry: { attempts, baseDelayMs: 100, maxDelayMs: 5_000 },
    sleep: async (ms) => void sleeps.push(ms),
  })
  return { client, sleeps }
}

const SIZE = 1024 * 1024
const BLOB = blobBytes(SIZE)
const DIGEST = sha256(BLOB)

describe('blob downloads that break', () => {
  for (const announced of [SIZE, undefined]) {
    test(`a reset mid-blob resumes with Range (size ${announced ? 'known' : 'unknown'})`, async () => {
      const ranges: string[] = []
      const endpoint = fake((req) => {
        const range = req.headers.get('range')
        if (!range) return new Response(breaksAfter(BLOB, 300_000))
        ranges.push(range)
        return partial(BLOB, range)
      })
      const { client, sleeps } = recordingClient()
      let progress = 0
      const stream = await client
        .repository(endpoint, 'x/y')
        .blob(DIGEST, { size: announced, onProgress: (n) => (progress = n) })
      const got = await readAll(stream)
      expect(sha256(got)).toBe(DIGEST)
      expect(progress).toBe(SIZE)
      expect(ranges).toHaveLength(1)
      const resumedAt = Number(/^bytes=(\d+)-$/.exec(ranges[0])![1])
      expect(resumedAt).toBeGreaterThan(0)
      expect(resumedAt).toBeLessThanOrEqual(300_000)
      expect(sleeps).toHaveLength(1)
    })
  }

  test('the retry hook hears each wait, and verify:false leaves checking to the sink', async () => {
    const flipped = BLOB.slice()
    flipped[SIZE - 1] ^= 0xff
    const endpoint = fake((req) => {
      const range = req.headers.get('range')
      return range ? partial(flipped, range) : new Response(breaksAfter(flipped, 300_000))
    })
    const { client, sleeps } = recordingClient()
    const retries: number[] = []
    const stream = await client
      .repository(endpoint, 'x/y')
      .blob(DIGEST, { size: SIZE, verify: false, onRetry: (ms) => retries.push(ms) })
    const got = await readAll(stream)
    expect(got.byteLength).toBe(SIZE)
    expect(sha256(got)).not.toBe(DIGEST)
    expect(retries).toEqual(sleeps)
    expect(retries).toHaveLength(1)
  })

  test('a 503 on the resume request is retried within the same budget', async () => {
    const seen: string[] = []
    const endpoint = fake((req) => {
      const range = req.headers.get('range')
      seen.push(range ?? 'full')
      if (!range) return new Response(breaksAfter(BLOB, 300_000))
      return seen.length === 2 ? new Response('busy', { status: 503 }) : partial(BLOB, range)
    })
    const { client, sleeps } = recordingClient()
    const got = await readAll(await client.repository(endpoint, 'x/y').blob(DIGEST, { size: SIZE }))
    expect(sha256(got)).toBe(DIGEST)
    expect(seen).toHaveLength(3)
    expect(seen[1]).toBe(seen[2])
    expect(sleeps).toHaveLength(2)
  })

  test('a server that ignores Range: the bytes already delivered are skipped', async () => {
    const ranges: string[] = []
    let requests = 0
    const endpoint = fake((req) => {
      requests++
      const range = req.headers.get('range')
      if (range) ranges.push(range)
      return new Response(requests === 1 ? breaksAfter(BLOB, 200_000) : BLOB.slice())
    })
    const { client } = recordingClient()
    const got = await readAll(await client.repository(endpoint, 'x/y').blob(DIGEST, { size: SIZE }))
    expect(got.byteLength).toBe(SIZE)
    expect(sha256(got)).toBe(DIGEST)
    expect(ranges).toHaveLength(1)
  })

  test('a connection that keeps breaking gives up within the budget, in Go words', async () => {
    let requests = 0
    const endpoint = fake(() => {
      // The first try sends a little; every resume breaks before its headers: no progress.
      return new Response(breaksAfter(BLOB, requests++ === 0 ? 1000 : 0))
    })
    const { client, sleeps } = recordingClient(3)
    const err = await rejection(
      readAll(await client.repository(endpoint, 'x/y').blob(DIGEST, { size: SIZE }))
    )
    expect(err).toBeInstanceOf(RegistryError)
    expect((err as RegistryError).dockerText()).toBe(
      `Get "${endpoint.url}/v2/x/y/blobs/${DIGEST}": read tcp ${endpoint.url.slice(7)}: read: connection reset by peer`
    )
    expect(requests).toBe(3)
    expect(sleeps).toHaveLength(2)
  })

  test('a flipped byte fails verification at the end, after every byte went through', async () => {
    const flipped = BLOB.slice()
    flipped[SIZE / 2] ^= 0x01
    const endpoint = fake(() => new Response(flipped))
    const { client } = recordingClient()
    const reader = (
      await client.repository(endpoint, 'x/y').blob(DIGEST, { size: SIZE })
    ).getReader()
    let seen = 0
    const err = await rejection(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return
          seen += value.byteLength
        }
      })()
    )
    expect(err).toBeInstanceOf(DigestMismatchError)
    expect((err as DigestMismatchError).actual).toBe(sha256(flipped))
    expect(seen).toBe(SIZE)
  })

  test('aborting during a retry backoff ends the wait at once', async () => {
    const endpoint = fake(() => new Response('busy', { status: 503 }))
    const client = createRegistryClient({
      fetch: (r) => fetch(r),
      retry: { baseDelayMs: 30_000, maxDelayMs: 30_000 },
    })
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 50)
    const started = Date.now()
    const err = await rejection(
      client.repository(endpoint, 'x/y').blob(DIGEST, { signal: ac.signal })
    )
    expect((err as Error).name).toBe('AbortError')
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(shouldFallback(err, endpoint)).toBe(false)
  })
})

describe('retries', () => {
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [],
  })
  const ok = () => new Response(manifest, { headers: { 'content-type': MediaType.ociIndex } })

  test('429 with Retry-After waits as told, then succeeds', async () => {
    let requests = 0
    const endpoint = fake(() =>
      ++requests === 1
        ? new Response('slow down', { status: 429, headers: { 'retry-after': '2' } })
        : ok()
    )
    const { client, sleeps } = recordingClient()
    const m = await client.repository(endpoint, 'x/y').manifest('latest')
    expect(m.digest).toBe(sha256(manifest))
    expect(sleeps).toEqual([2_000])
  })

  test('429 asking for longer than the cap fails at once, in Docker words', async () => {
    let requests = 0
    const endpoint = fake(
      () => (
        requests++,
        new Response('slow down', { status: 429, headers: { 'retry-after': '3600' } })
      )
    )
    const { client, sleeps } = recordingClient()
    const err = (await rejection(
      client.repository(endpoint, 'x/y').manifest('latest')
    )) as RegistryError
    expect(err.code).toBe('TOOMANYREQUESTS')
    expect(err.dockerText()).toBe('toomanyrequests: slow down')
    expect(requests).toBe(1)
    expect(sleeps).toEqual([])
  })

  test('503 twice, then success, with growing backoff', async () => {
    let requests = 0
    const endpoint = fake(() =>
      ++requests <= 2 ? new Response('unavailable', { status: 503 }) : ok()
    )
    const { client, sleeps } = recordingClient()
    await client.repository(endpoint, 'x/y').manifest('latest')
    expect(requests).toBe(3)
    expect(sleeps).toHaveLength(2)
    expect(sleeps[0]).toBeGreaterThanOrEqual(50)
    expect(sleeps[0]).toBeLessThanOrEqual(100)
    expect(sleeps[1]).toBeGreaterThanOrEqual(100)
    expect(sleeps[1]).toBeLessThanOrEqual(200)
  })

  test('5xx until the budget runs out', async () => {
    let requests = 0
    const endpoint = fake(() => (requests++, new Response('unavailable', { status: 503 })))
    const { client } = recordingClient(4)
    const err = (await rejection(
      client.repository(endpoint, 'x/y').manifest('latest')
    )) as RegistryError
    expect(requests).toBe(4)
    expect(err.status).toBe(503)
    expect(err.dockerText()).toBe('received unexpected HTTP status: 503 Service Unavailable')
    expect(shouldFallback(err, endpoint)).toBe(true)
  })

  test('other 4xx are never retried', async () => {
    let requests = 0
    const endpoint = fake(
      () => (
        requests++,
        Response.json(
          { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] },
          { status: 404 }
        )
      )
    )
    const { client, sleeps } = recordingClient()
    await rejection(client.repository(endpoint, 'x/y').manifest('latest'))
    expect(requests).toBe(1)
    expect(sleeps).toEqual([])
  })
})

describe('schema 1', () => {
  const schema1 = JSON.stringify({
    schemaVersion: 1,
    name: 'library/old',
    tag: 'latest',
    fsLayers: [],
    history: [],
  })
  const wording = (ref: string) =>
    `Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Suggest the author of ${ref} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/`

  for (const contentType of [MediaType.dockerSchema1Signed, 'application/json']) {
    test(`a schema 1 manifest (${contentType}) is refused with Docker's wording`, async () => {
      const endpoint = fake(
        () => new Response(schema1, { headers: { 'content-type': contentType } })
      )
      const { client } = recordingClient()
      const err = await rejection(client.repository(endpoint, 'library/old').manifest('latest'))
      expect(err).toBeInstanceOf(UnsupportedManifestError)
      expect((err as UnsupportedManifestError).kind).toBe('schema1')
      expect((err as UnsupportedManifestError).dockerText('docker.io/library/old:latest')).toBe(
        wording('docker.io/library/old:latest')
      )
      expect((err as Error).message).toBe(wording('library/old:latest'))
      expect(shouldFallback(err, { ...endpoint, mirror: true })).toBe(false)
    })
  }

  test('resolve refuses schema 1 from the HEAD alone', async () => {
    const methods: string[] = []
    const endpoint = fake((req) => {
      methods.push(req.method)
      return new Response(req.method === 'HEAD' ? null : schema1, {
        headers: {
          'content-type': MediaType.dockerSchema1Signed,
          'docker-content-digest': sha256(schema1),
          'content-length': String(schema1.length),
        },
      })
    })
    const { client } = recordingClient()
    const err = await rejection(client.repository(endpoint, 'library/old').resolve('latest'))
    expect((err as UnsupportedManifestError).kind).toBe('schema1')
    expect(methods).toEqual(['HEAD'])
  })

  test('a HEAD without Docker-Content-Digest falls back to GET', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] })
    const methods: string[] = []
    const endpoint = fake((req) => {
      methods.push(req.method)
      return new Response(req.method === 'HEAD' ? null : body, {
        headers: { 'content-type': MediaType.ociIndex },
      })
    })
    const { client } = recordingClient()
    const resolved = await client.repository(endpoint, 'x/y').resolve('latest')
    expect(resolved).toEqual({
      digest: sha256(body) as Digest,
      mediaType: MediaType.ociIndex,
      size: body.length,
    })
    expect(methods).toEqual(['HEAD', 'GET'])
  })
})
