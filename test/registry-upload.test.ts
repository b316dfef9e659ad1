/**
 * The push half of the registry client against the real upstream (CNCF distribution):
 * monolithic and chunked blob uploads, HEAD checks, cross-repository mounts (with the extra
 * pull scope in token mode), manifest PUTs and the registry's refusals.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { sha256, type Digest } from '../src/oci/digest.ts'
import { MediaType } from '../src/oci/media-types.ts'
import { createRegistryClient } from '../src/registry/client.ts'
import type { Endpoint } from '../src/registry/endpoints.ts'
import { RegistryError } from '../src/registry/errors.ts'
import { PASSWORD, testbed, USER, type Testbed } from './support/testbed.ts'

const alice = { username: USER, password: PASSWORD }
const at = (tb: Testbed): Endpoint => ({ url: tb.url, mirror: false })
const streamOf = (bytes: Uint8Array, piece = 100_000) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.byteLength; i += piece) c.enqueue(bytes.slice(i, i + piece))
      c.close()
    },
  })
const random = (n: number) => {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)))
  return out
}
const unique = (name: string) => `upload/${name}-${crypto.randomUUID().slice(0, 8)}`

/** A fetch that records `METHOD path` of every repository request (not the ping). */
function recording() {
  const seen: string[] = []
  const f = (req: Request) => {
    const u = new URL(req.url)
    if (u.pathname.startsWith('/v2/') && u.pathname !== '/v2/') {
      seen.push(`${req.method} ${u.pathname.replace(/uploads\/[^/]+$/, 'uploads/ID')}`)
    }
    return fetch(req)
  }
  return { seen, fetch: f }
}

let open: Testbed
let token: Testbed
beforeAll(async () => {
  open = await testbed('open')
  token = await testbed('token')
}, 60_000)

async function blobAt(tb: Testbed, repo: string, digest: string): Promise<Uint8Array> {
  const res = await fetch(`${tb.url}/v2/${repo}/blobs/${digest}`)
  expect(res.status).toBe(200)
  return new Uint8Array(await res.arrayBuffer())
}

describe('blob uploads', () => {
  test('a small blob goes up in one PUT; HEAD sees it afterwards', async () => {
    const rec = recording()
    const repo = createRegistryClient({ fetch: rec.fetch }).repository(at(open), unique('mono'), {
      actions: ['push', 'pull'],
    })
    const bytes = random(300_000)
    const digest = sha256(bytes)
    expect(await repo.hasBlob(digest)).toBe(false)
    const progress: number[] = []
    await repo.uploadBlob(digest, bytes.byteLength, async () => streamOf(bytes), {
      onProgress: (n) => progress.push(n),
    })
    expect(progress).toEqual([300_000])
    expect(await repo.hasBlob(digest)).toBe(true)
    expect(await blobAt(open, repo.path, digest)).toEqual(bytes)
    expect(rec.seen.filter((s) => !s.startsWith('HEAD'))).toEqual([
      `POST /v2/${repo.path}/blobs/uploads/`,
      `PUT /v2/${repo.path}/blobs/uploads/ID`,
    ])
  })

  test('a large blob goes up in PATCH chunks of chunkSize, then a closing PUT', async () => {
    const rec = recording()
    const repo = createRegistryClient({ fetch: rec.fetch }).repository(at(open), unique('chunked'), {
      actions: ['push', 'pull'],
    })
    const bytes = random(2.5 * 2 ** 20)
    const digest = sha256(bytes)
    const progress: number[] = []
    await repo.uploadBlob(digest, bytes.byteLength, async () => streamOf(bytes, 300_000), {
      chunkSize: 2 ** 20,
      onProgress: (n) => progress.push(n),
    })
    expect(progress).toEqual([2 ** 20, 2 ** 21, bytes.byteLength])
    expect(rec.seen).toEqual([
      `POST /v2/${repo.path}/blobs/uploads/`,
      ...Array(3).fill(`PATCH /v2/${repo.path}/blobs/uploads/ID`),
      `PUT /v2/${repo.path}/blobs/uploads/ID`,
    ])
    expect(await blobAt(open, repo.path, digest)).toEqual(bytes)
  })

  test('bytes that do not match the digest are refused by the registry', async () => {
    const repo = createRegistryClient({ fetch: (r) => fetch(r) }).repository(at(open), unique('bad'), {
      actions: ['push', 'pull'],
    })
    const err = await repo
      .uploadBlob(sha256('something else'), 10, async () => streamOf(random(10)))
      .catch((e) => e)
    expect(err).toBeInstanceOf(RegistryError)
    expect((err as RegistryError).code).toBe('DIGEST_INVALID')
  })
})

describe('mounts and manifests', () => {
  test('a mount from a repository holding the blob links it; from one without, an upload opens', async () => {
    const client = createRegistryClient({ fetch: (r) => fetch(r) })
    const source = client.repository(at(open), unique('src'), { actions: ['push', 'pull'] })
    const bytes = random(1000)
    const digest = sha256(bytes)
    await source.uploadBlob(digest, 1000, async () => streamOf(bytes))
    const target = client.repository(at(open), unique('dst'), { actions: ['push', 'pull'] })
    expect(await target.mountBlob(digest, source.path)).toEqual({ mounted: true })
    expect(await target.hasBlob(digest)).toBe(true)

    const other = client.repository(at(open), unique('dst2'), { actions: ['push', 'pull'] })
    const declined = await other.mountBlob(digest, unique('empty'))
    expect(declined.mounted).toBe(false)
    // the session the registry opened instead takes the upload
    const location = declined.mounted ? undefined : declined.location
    await other.uploadBlob(digest, 1000, async () => streamOf(bytes), { location })
    expect(await other.hasBlob(digest)).toBe(true)
  })

  test('token mode: a mount asks one token for push,pull here and pull on the source', async () => {
    const client = createRegistryClient({ fetch: (r) => fetch(r) })
    const opts = { credentials: alice, actions: ['push', 'pull'] }
    const source = client.repository(at(token), unique('tsrc'), opts)
    const bytes = random(2000)
    const digest = sha256(bytes)
    await source.uploadBlob(digest, 2000, async () => streamOf(bytes))
    const target = client.repository(at(token), unique('tdst'), opts)
    expect(await target.mountBlob(digest, source.path)).toEqual({ mounted: true })
    expect(await target.hasBlob(digest)).toBe(true)
  })

  test('manifests go up byte for byte under a tag; missing blobs are refused', async () => {
    const repo = createRegistryClient({ fetch: (r) => fetch(r) }).repository(at(open), unique('m'), {
      actions: ['push', 'pull'],
    })
    const config = new TextEncoder().encode(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })
    )
    const configDigest = sha256(config)
    await repo.uploadBlob(configDigest, config.byteLength, async () => streamOf(config))
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, size: config.byteLength, digest: configDigest },
      layers: [],
    }
    // unusual spacing: the registry must keep the bytes, not re-serialise them
    const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 3))
    const digest = await repo.putManifest('v1', bytes, MediaType.dockerManifest)
    expect(digest).toBe(sha256(bytes))
    const fetched = await repo.manifest('v1')
    expect(fetched.digest).toBe(digest)
    expect(fetched.bytes).toEqual(bytes)

    const absent: Digest = sha256('nope')
    const missing = { ...manifest, layers: [{ mediaType: MediaType.dockerLayerGzip, size: 1, digest: absent }] }
    const err = await repo
      .putManifest('v2', new TextEncoder().encode(JSON.stringify(missing)), MediaType.dockerManifest)
      .catch((e) => e)
    expect(err).toBeInstanceOf(RegistryError)
    expect((err as RegistryError).code).toBe('MANIFEST_BLOB_UNKNOWN')
  })

  test('token mode without credentials: pushing is denied in Docker words', async () => {
    const repo = createRegistryClient({ fetch: (r) => fetch(r) }).repository(at(token), unique('anon'), {
      actions: ['push', 'pull'],
    })
    const bytes = random(10)
    const err = await repo.uploadBlob(sha256(bytes), 10, async () => streamOf(bytes)).catch((e) => e)
    expect(err).toBeInstanceOf(RegistryError)
    expect((err as RegistryError).dockerText()).toBe('denied: requested access to the resource is denied')
  })
})
