/**
 * POST /images/create against the real upstream registry: every seeded image, Docker's
 * message order, up-to-date pulls, digests, platforms, errors, auth, shared downloads,
 * disconnects and corrupted bytes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createBlobStore } from '../src/storage/blobs.ts'
import { createImageStore } from '../src/storage/images.ts'
import { countingFetch, type CountingFetch } from './support/counting-fetch.ts'
import { startInProcess, type InProcess } from './support/edgepull.ts'
import { lines, readMessages } from './support/ndjson.ts'
import { PASSWORD, testbed, USER, type Testbed } from './support/testbed.ts'
import { MANIFEST_ACCEPT as ACCEPT } from '../src/oci/media-types.ts'

async function upstreamManifest(tb: Testbed, repo: string, ref: string) {
  const res = await fetch(`${tb.url}/v2/${repo}/manifests/${ref}`, { headers: { accept: ACCEPT } })
  const json = (await res.json()) as any
  return { digest: res.headers.get('docker-content-digest') as `sha256:${string}`, json }
}

const auth = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')

function create(ep: InProcess, query: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(`${ep.url}/v1.50/images/create?${query}`, {
    method: 'POST',
    headers: { 'x-registry-auth': 'e30=', ...headers },
    signal,
  })
}

let tb: Testbed
let ep: InProcess
let counter: CountingFetch

beforeAll(async () => {
  tb = await testbed('open')
  counter = countingFetch()
  ep = await startInProcess({ registries: { 'docker.io': { endpoint: tb.url } }, fetch: counter.fetch })
}, 120_000)
afterAll(() => ep?.stop())

describe('pull from the open upstream', () => {
  test('busybox: Docker messages in order, then up to date', async () => {
    const { digest, json } = await upstreamManifest(tb, 'library/busybox', 'latest')
    const layer = (json.layers[0].digest as string).slice(7, 19)
    const res = await create(ep, 'fromImage=docker.io/library/busybox&tag=latest')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    const ms = await readMessages(res)
    expect(lines(ms)).toEqual([
      'latest: Pulling from library/busybox',
      `${layer}: Pulling fs layer`,
      `${layer}: Verifying Checksum`,
      `${layer}: Download complete`,
      `${layer}: Pull complete`,
      `Digest: ${digest}`,
      'Status: Downloaded newer image for busybox:latest',
    ])
    // per-layer lines carry progressDetail, summary lines never do (notes §10.3)
    for (const m of ms) expect('progressDetail' in m).toBe(m.id !== undefined && m.id !== 'latest')
    const downloading = ms.filter((m) => m.status === 'Downloading')
    expect(downloading.at(-1)?.progressDetail).toEqual({ current: json.layers[0].size, total: json.layers[0].size })

    const again = await readMessages(await create(ep, 'fromImage=docker.io/library/busybox&tag=latest'))
    expect(lines(again)).toEqual([
      'latest: Pulling from library/busybox',
      `Digest: ${digest}`,
      'Status: Image is up to date for busybox:latest',
    ])
  }, 60_000)

  test('every seeded image pulls and lands verified in the store', async () => {
    const blobs = createBlobStore(ep.driver)
    const images = createImageStore(ep.driver)
    for (const name of ['layered:latest', 'layered:v1', 'busybox-v2s2:latest', 'many:latest', 'big:latest']) {
      const [repo, tag] = name.split(':')
      const ms = await readMessages(await create(ep, `fromImage=docker.io/library/${repo}&tag=${tag}`))
      expect(ms.filter((m) => m.errorDetail)).toEqual([])
      expect(ms.at(-1)?.status).toMatch(new RegExp(`^Status: .* for ${repo}:${tag}$`))
      const { json } = await upstreamManifest(tb, `library/${repo}`, tag!)
      for (const l of json.layers) expect((await blobs.stat(l.digest))?.size).toBe(l.size)
      const id = await images.getTag(`docker.io/library/${repo}:${tag}`)
      expect(id).toBe(json.config.digest)
    }
  }, 120_000)

  test('many: more layers than download slots are Waiting, completions stay bottom-up', async () => {
    const e = await startInProcess({ registries: { 'docker.io': { endpoint: tb.url } } })
    try {
      const ms = await readMessages(await create(e, 'fromImage=docker.io/library/many&tag=latest'))
      const { json } = await upstreamManifest(tb, 'library/many', 'latest')
      const ids = json.layers.map((l: any) => (l.digest as string).slice(7, 19))
      const ls = lines(ms)
      expect(ls.filter((l) => l.endsWith(': Pulling fs layer'))).toEqual(ids.map((id: string) => `${id}: Pulling fs layer`))
      expect(ls.filter((l) => l.endsWith(': Waiting'))).toEqual(ids.slice(3).map((id: string) => `${id}: Waiting`))
      expect(ls.filter((l) => l.endsWith(': Pull complete'))).toEqual(ids.map((id: string) => `${id}: Pull complete`))
      for (const id of ids) {
        expect(ls.indexOf(`${id}: Download complete`)).toBeLessThan(ls.indexOf(`${id}: Pull complete`))
      }
    } finally {
      await e.stop()
    }
  }, 60_000)

  test('pull by digest reports the full reference and records it', async () => {
    const { digest } = await upstreamManifest(tb, 'library/layered', 'v1')
    const ms = await readMessages(await create(ep, `fromImage=docker.io/library/layered&tag=${digest}`))
    expect(lines(ms)[0]).toBe(`docker.io/library/layered@${digest}: Pulling from library/layered`)
    expect(lines(ms).at(-1)).toBe(`Status: Image is up to date for layered@${digest}`)
  }, 60_000)

  test('multiarch with platform linux/arm64 takes arm64 and prints the index digest', async () => {
    const index = await upstreamManifest(tb, 'library/multiarch', 'latest')
    const ms = await readMessages(
      await create(ep, 'fromImage=docker.io/library/multiarch&tag=latest&platform=linux/arm64')
    )
    expect(lines(ms)).toContain(`Digest: ${index.digest}`)
    const arm = index.json.manifests.find((m: any) => m.platform?.architecture === 'arm64')
    const armManifest = await upstreamManifest(tb, 'library/multiarch', arm.digest)
    const id = await createImageStore(ep.driver).getTag('docker.io/library/multiarch:latest')
    expect(id).toBe(armManifest.json.config.digest)
    const record = await createImageStore(ep.driver).getImage(id!)
    expect(record?.platform.architecture).toBe('arm64')
    expect(record?.index?.digest).toBe(index.digest)
  }, 60_000)

  test('a platform the index lacks fails in the stream, in Docker words', async () => {
    const ms = await readMessages(
      await create(ep, 'fromImage=docker.io/library/multiarch&tag=latest&platform=linux/s390x')
    )
    expect(lines(ms)).toEqual([
      'latest: Pulling from library/multiarch',
      'ERROR no matching manifest for linux/s390x in the manifest list entries',
    ])
    expect(ms.at(-1)?.error).toBe(ms.at(-1)?.errorDetail?.message)
  }, 60_000)
})

describe('errors before the stream are HTTP errors with {"message"}', () => {
  test('unknown tag → 404 manifest unknown', async () => {
    const res = await create(ep, 'fromImage=docker.io/library/busybox&tag=nope')
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toBe('application/json')
    const body = (await res.json()) as { message: string }
    expect(body.message).toStartWith('manifest for busybox:nope not found: manifest unknown: ')
  })

  test('bad reference → 400 invalid reference format', async () => {
    const res = await create(ep, 'fromImage=docker.io/library/Busy&tag=latest')
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).message).toBe(
      'invalid reference format: repository name (library/Busy) must be lowercase'
    )
  })

  test('scratch is reserved → 403', async () => {
    const res = await create(ep, 'fromImage=scratch')
    expect(res.status).toBe(403)
    expect(((await res.json()) as any).message).toBe("'scratch' is a reserved name")
  })

  test('a registry that is down → 500 with the connection error', async () => {
    const down = await startInProcess({ registries: { 'docker.io': { endpoint: 'http://127.0.0.1:9' } } })
    try {
      const res = await create(down, 'fromImage=busybox&tag=latest')
      expect(res.status).toBe(500)
      expect(((await res.json()) as any).message).toContain('127.0.0.1:9')
    } finally {
      await down.stop()
    }
  })
})

describe('schema 1', () => {
  test('is refused after Pulling from, in the stream, in Docker words', async () => {
    // distribution 2.8 no longer serves schema 1, so this one answer is faked.
    const schema1 = JSON.stringify({ schemaVersion: 1, name: 'library/old', tag: 'latest', fsLayers: [] })
    const e = await startInProcess({
      registries: { 'docker.io': { endpoint: tb.url } },
      fetch: async (req) =>
        new URL(req.url).pathname.startsWith('/v2/library/old/manifests/')
          ? new Response(req.method === 'HEAD' ? null : schema1, {
              headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' },
            })
          : fetch(req),
    })
    try {
      const res = await create(e, 'fromImage=docker.io/library/old&tag=latest')
      expect(res.status).toBe(200)
      expect(lines(await readMessages(res))).toEqual([
        'latest: Pulling from library/old',
        'ERROR Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. ' +
          'Suggest the author of old:latest to upgrade the image to the OCI Format or Docker Image manifest v2, ' +
          'schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/',
      ])
    } finally {
      await e.stop()
    }
  })
})

describe('sharing, cancelling and verifying downloads', () => {
  test('two concurrent pulls of the same image download each blob once', async () => {
    const fresh = countingFetch()
    const e = await startInProcess({ registries: { 'docker.io': { endpoint: tb.url } }, fetch: fresh.fetch })
    try {
      const [a, b] = await Promise.all([
        create(e, 'fromImage=docker.io/library/big&tag=latest').then(readMessages),
        create(e, 'fromImage=docker.io/library/big&tag=latest').then(readMessages),
      ])
      for (const ms of [a, b]) expect(ms.filter((m) => m.errorDetail)).toEqual([])
      const { json } = await upstreamManifest(tb, 'library/big', 'latest')
      expect(fresh.blobGets.get(json.layers[0].digest)).toBe(1)
      expect(fresh.blobGets.get(json.config.digest)).toBe(1)
    } finally {
      await e.stop()
    }
  }, 60_000)

  test('a client that disconnects cancels its pull and leaves nothing partial', async () => {
    const e = await startInProcess({ registries: { 'docker.io': { endpoint: tb.url } }, store: 'fs' })
    try {
      const { json } = await upstreamManifest(tb, 'library/big', 'latest')
      const abort = new AbortController()
      const res = await create(e, 'fromImage=docker.io/library/big&tag=latest', {}, abort.signal)
      const reader = res.body!.getReader()
      await reader.read()
      abort.abort()
      await Bun.sleep(300)
      const blobs = createBlobStore(e.driver)
      expect(await blobs.stat(json.layers[0].digest)).toBeNull()
      expect(await createImageStore(e.driver).getTag('docker.io/library/big:latest')).toBeNull()
    } finally {
      await e.stop()
    }
  }, 60_000)

  test('a layer an rmi frees while a pull relies on it stays, leased, until the image is recorded', async () => {
    const busybox = await upstreamManifest(tb, 'library/busybox', 'latest')
    const layered = await upstreamManifest(tb, 'library/layered', 'latest')
    const base = busybox.json.layers[0].digest
    expect(layered.json.layers[0].digest).toBe(base)
    const top = layered.json.layers.at(-1).digest
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    let reached!: () => void
    const atTop = new Promise<void>((r) => (reached = r))
    const gets = countingFetch()
    const e = await startInProcess({
      registries: { 'docker.io': { endpoint: tb.url } },
      fetch: async (req) => {
        if (req.method === 'GET' && req.url.endsWith(`/blobs/${top}`)) {
          reached()
          await held
        }
        return gets.fetch(req)
      },
    })
    try {
      await readMessages(await create(e, 'fromImage=docker.io/library/busybox&tag=latest'))
      const pulling = create(e, 'fromImage=docker.io/library/layered&tag=latest').then(readMessages)
      await atTop
      const rmi = await fetch(`${e.url}/v1.50/images/busybox`, { method: 'DELETE' })
      expect(rmi.status).toBe(200)
      expect(await (await fetch(`${e.url}/v1.50/images/busybox/json`)).json()).toMatchObject({ message: expect.stringContaining('No such image') })
      expect(await createBlobStore(e.driver).stat(base)).not.toBeNull()
      release()
      const ms = await pulling
      expect(ms.filter((m) => m.errorDetail)).toEqual([])
      expect(lines(ms)).toContain(`${base.slice(7, 19)}: Already exists`)
      for (const l of layered.json.layers) expect(await createBlobStore(e.driver).stat(l.digest)).not.toBeNull()
      expect(gets.blobGets.get(base)).toBe(1)
    } finally {
      await e.stop()
    }
  }, 60_000)

  test('a connection reset mid-layer is resumed, and the pull says Retrying', async () => {
    const faulty = countingFetch()
    const e = await startInProcess({ registries: { 'docker.io': { endpoint: tb.url } }, fetch: faulty.fetch })
    try {
      const { json } = await upstreamManifest(tb, 'library/big', 'latest')
      const layer = json.layers[0].digest
      faulty.breakOnce(layer)
      const ms = await readMessages(await create(e, 'fromImage=docker.io/library/big&tag=latest'))
      expect(ms.filter((m) => m.errorDetail)).toEqual([])
      expect(lines(ms)).toContain(`${layer.slice(7, 19)}: Retrying in 1 second`)
      expect(lines(ms).at(-1)).toBe('Status: Downloaded newer image for big:latest')
      expect((await createBlobStore(e.driver).stat(layer))?.size).toBe(json.layers[0].size)
      expect(faulty.blobGets.get(layer)).toBe(2)
    } finally {
      await e.stop()
    }
  }, 60_000)

  test('a flipped byte fails the pull in the stream and stores nothing', async () => {
    const faulty = countingFetch()
    const e = await startInProcess({ registries: { 'docker.io': { endpoint: tb.url } }, fetch: faulty.fetch })
    try {
      const { json } = await upstreamManifest(tb, 'library/layered', 'latest')
      const bad = json.layers[1].digest
      // every attempt is corrupted, so retries cannot hide it
      for (let i = 0; i < 10; i++) faulty.corrupt(bad)
      const ms = await readMessages(await create(e, 'fromImage=docker.io/library/layered&tag=latest'))
      expect(ms.at(-1)?.errorDetail?.message).toContain(bad)
      expect(await createBlobStore(e.driver).stat(bad)).toBeNull()
      expect(await createImageStore(e.driver).getTag('docker.io/library/layered:latest')).toBeNull()
    } finally {
      await e.stop()
    }
  }, 60_000)
})

describe('token auth upstream', () => {
  let tt: Testbed
  let et: InProcess
  beforeAll(async () => {
    tt = await testbed('token')
    et = await startInProcess({ registries: { [tt.host]: {} } })
  }, 120_000)
  afterAll(() => et?.stop())

  test('public images pull anonymously', async () => {
    const ms = await readMessages(await create(et, `fromImage=${tt.host}/library/busybox&tag=latest`))
    expect(ms.at(-1)?.status).toBe(`Status: Downloaded newer image for ${tt.host}/library/busybox:latest`)
  }, 60_000)

  test('a private image is denied without credentials, in Docker words', async () => {
    const res = await create(et, `fromImage=${tt.host}/private/busybox&tag=latest`)
    expect(res.status).toBe(404)
    expect(((await res.json()) as any).message).toStartWith(
      `pull access denied for ${tt.host}/private/busybox, repository does not exist or may require 'docker login'`
    )
  }, 60_000)

  test('a private image pulls with X-Registry-Auth credentials', async () => {
    const res = await create(et, `fromImage=${tt.host}/private/busybox&tag=latest`, {
      'x-registry-auth': auth({ username: USER, password: PASSWORD, serveraddress: tt.host }),
    })
    expect(res.status).toBe(200)
    const ms = await readMessages(res)
    expect(ms.at(-1)?.status).toBe(`Status: Downloaded newer image for ${tt.host}/private/busybox:latest`)
  }, 60_000)
})
