/**
 * The image-management routes over HTTP, on images pulled from the real upstream registry:
 * list, inspect, history, tag, delete and prune, with Docker's shapes per API version, its
 * statuses and words, and the store left as it should be (shared blobs kept, the rest freed).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Digest } from '../src/oci/digest.ts'
import { createBlobStore, type BlobStore } from '../src/storage/blobs.ts'
import { createImageStore, type ImageStore } from '../src/storage/images.ts'
import { startInProcess, type InProcess } from './support/edgepull.ts'
import { readMessages } from './support/ndjson.ts'
import { testbed, type Testbed } from './support/testbed.ts'
import { MANIFEST_ACCEPT as ACCEPT } from '../src/oci/media-types.ts'

interface Upstream {
  digest: Digest
  manifest: { config: { digest: Digest }; layers: { digest: Digest; size: number }[] }
  config: any
}

let tb: Testbed
let ep: InProcess
let images: ImageStore
let blobs: BlobStore
const up: Record<string, Upstream> = {}

/** The manifest (for the platform) and config upstream serves for `repo:ref`. */
async function upstream(repo: string, ref: string, arch = 'amd64'): Promise<Upstream> {
  const get = (r: string) => fetch(`${tb.url}/v2/library/${repo}/manifests/${r}`, { headers: { accept: ACCEPT } })
  let res = await get(ref)
  const digest = res.headers.get('docker-content-digest') as Digest
  let manifest = (await res.json()) as any
  if (manifest.manifests) {
    const m = manifest.manifests.find((d: any) => d.platform?.architecture === arch)
    manifest = await (await get(m.digest)).json()
  }
  const config = await (await fetch(`${tb.url}/v2/library/${repo}/blobs/${manifest.config.digest}`)).json()
  return { digest, manifest, config }
}

async function pull(repo: string, tag: string, platform?: string) {
  const q = `fromImage=docker.io/library/${repo}&tag=${tag}${platform ? `&platform=${platform}` : ''}`
  const res = await fetch(`${ep.url}/v1.51/images/create?${q}`, { method: 'POST' })
  expect(res.status).toBe(200)
  expect((await readMessages(res)).filter((m) => m.errorDetail)).toEqual([])
}

/** One Engine API call: status, Content-Type and body (JSON when there is one). */
async function api(method: string, path: string) {
  const res = await fetch(`${ep.url}${path}`, { method })
  const text = await res.text()
  return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : text }
}
const get = (path: string) => api('GET', path)
const enc = (o: object) => encodeURIComponent(JSON.stringify(o))

async function storedBlobs(): Promise<Map<Digest, number>> {
  const out = new Map<Digest, number>()
  for await (const d of blobs.list()) out.set(d, (await blobs.stat(d))!.size)
  return out
}

const layerBytes = (u: Upstream) => u.manifest.layers.reduce((n, l) => n + l.size, 0)

beforeAll(async () => {
  tb = await testbed('open')
  ep = await startInProcess({ registries: { 'docker.io': { endpoint: tb.url } } })
  images = createImageStore(ep.driver)
  blobs = createBlobStore(ep.driver)
  up.busybox = await upstream('busybox', 'latest')
  up.layered = await upstream('layered', 'latest')
  up.many = await upstream('many', 'latest')
  up.multiarch = await upstream('multiarch', 'latest', 'arm64')
  await pull('busybox', 'latest')
  await pull('layered', 'latest')
  await pull('layered', 'v1')
  await pull('many', 'latest')
  await pull('multiarch', 'latest', 'linux/arm64')
}, 120_000)
afterAll(() => ep?.stop())

describe('GET /images/json', () => {
  test('ImageSummary exactly, one per image, newest first', async () => {
    const { status, type, body } = await get('/v1.51/images/json')
    expect(status).toBe(200)
    expect(type).toBe('application/json')
    expect(body.map((s: any) => s.Id).sort()).toEqual(
      [up.busybox, up.layered, up.many, up.multiarch].map((u) => u.manifest.config.digest).sort()
    )
    const created = body.map((s: any) => s.Created)
    expect(created).toEqual([...created].sort((a, b) => b - a))
    const bb = body.find((s: any) => s.Id === up.busybox!.manifest.config.digest)
    expect(Object.keys(bb)).toEqual([
      'Containers', 'Created', 'Id', 'Labels', 'ParentId', 'RepoDigests', 'RepoTags', 'SharedSize', 'Size',
    ])
    expect(bb).toEqual({
      Containers: 0,
      Created: Date.parse(up.busybox!.config.created) / 1000,
      Id: up.busybox!.manifest.config.digest,
      Labels: null,
      ParentId: '',
      RepoDigests: [`busybox@${up.busybox!.digest}`],
      RepoTags: ['busybox:latest'],
      SharedSize: -1,
      Size: layerBytes(up.busybox!),
    })
    const layered = body.find((s: any) => s.Id === up.layered!.manifest.config.digest)
    expect(layered.RepoTags).toEqual(['layered:latest', 'layered:v1'])
    expect(layered.Labels).toEqual({ 'org.testbed.kind': 'layered' })
    const multi = body.find((s: any) => s.Id === up.multiarch!.manifest.config.digest)
    expect(multi.RepoDigests).toEqual([`multiarch@${up.multiarch!.digest}`]) // the index digest
  })

  test('a reference filter keeps only matching references, against familiar and full names', async () => {
    const v1 = await get(`/v1.51/images/json?filters=${enc({ reference: { 'layered:v1': true } })}`)
    expect(v1.body.map((s: any) => [s.RepoTags, s.RepoDigests])).toEqual([[['layered:v1'], []]])
    const none = await get(`/images/json?filters=${enc({ reference: ['library/*'] })}`)
    expect(none.body).toEqual([])
    const full = await get(`/images/json?filters=${enc({ reference: ['docker.io/library/*'] })}`)
    expect(full.body.length).toBe(4)
    const byName = await get(`/images/json?filters=${enc({ reference: { 'docker.io/library/m*': true } })}`)
    expect(byName.body.flatMap((s: any) => s.RepoTags).sort()).toEqual(['many:latest', 'multiarch:latest'])
    expect(byName.body.flatMap((s: any) => s.RepoDigests).length).toBe(2)
    // before 1.25 the CLI sent the glob as `filter`
    const legacy = await get('/v1.24/images/json?filter=lay*')
    expect(legacy.body.map((s: any) => s.RepoTags)).toEqual([['layered:latest', 'layered:v1']])
  })

  test('label, dangling, before/since and shared-size', async () => {
    const q = (f: object, extra = '') => get(`/v1.51/images/json?filters=${enc(f)}${extra}`)
    expect((await q({ label: { 'org.testbed.kind=layered': true } })).body.map((s: any) => s.RepoTags)).toEqual([
      ['layered:latest', 'layered:v1'],
    ])
    expect((await q({ dangling: { true: true } })).body).toEqual([])
    expect((await q({ dangling: { false: true } })).body.length).toBe(4)
    expect((await q({ before: { busybox: true } })).body).toEqual([]) // all were created at once
    const missing = await q({ since: { nope: true } })
    expect(missing).toEqual({ status: 404, type: 'application/json', body: { message: 'No such image: nope:latest' } })
    const shared = (await q({}, '&shared-size=1')).body
    // busybox's one layer is the bottom layer of layered and many as well
    const bb = shared.find((s: any) => s.RepoTags.includes('busybox:latest'))
    expect(bb.SharedSize).toBe(layerBytes(up.busybox!))
    expect((await get(`/v1.41/images/json?shared-size=1`)).body[0].SharedSize).toBe(-1)
  })

  test('bad filters are 400 in Docker’s words', async () => {
    const bad = async (filters: string) => (await get(`/images/json?filters=${encodeURIComponent(filters)}`)).body
    expect(await bad('{"foo":{"x":true}}')).toEqual({ message: "invalid filter 'foo'" })
    expect(await bad('{"dangling":{"maybe":true}}')).toEqual({ message: "invalid filter 'dangling=[maybe]'" })
    expect(await bad('{nope')).toEqual({ message: 'invalid filter' })
    expect((await get(`/images/json?filters=${enc({ dangling: ['maybe'] })}`)).status).toBe(400)
  })

  test('older API versions: -1 containers, VirtualSize', async () => {
    const old = (await get('/v1.41/images/json')).body
    expect(old.every((s: any) => s.Containers === -1 && s.VirtualSize === s.Size)).toBe(true)
    expect((await get('/v1.50/images/json')).body.every((s: any) => s.Containers === -1)).toBe(true)
    expect((await get('/v1.44/images/json')).body.some((s: any) => 'VirtualSize' in s)).toBe(false)
  })
})

describe('GET /images/{name}/json', () => {
  test('ImageInspect at 1.51: every field, in moby’s order', async () => {
    const { status, body } = await get('/v1.51/images/busybox/json')
    expect(status).toBe(200)
    const u = up.busybox!
    expect(Object.keys(body)).toEqual([
      'Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'DockerVersion', 'Author',
      'Config', 'Architecture', 'Os', 'Size', 'GraphDriver', 'RootFS', 'Metadata',
    ])
    expect(body).toEqual({
      Id: u.manifest.config.digest,
      RepoTags: ['busybox:latest'],
      RepoDigests: [`busybox@${u.digest}`],
      Parent: '',
      Comment: '',
      Created: u.config.created,
      DockerVersion: '',
      Author: '',
      Config: {
        Cmd: ['sh'],
        Entrypoint: null,
        Env: u.config.config.Env,
        Labels: null,
        OnBuild: null,
        User: '',
        Volumes: null,
        WorkingDir: '',
      },
      Architecture: 'amd64',
      Os: 'linux',
      Size: layerBytes(u),
      GraphDriver: { Data: null, Name: 'edgepull' },
      RootFS: { Type: 'layers', Layers: u.config.rootfs.diff_ids },
      Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
    })
    expect(Object.keys(body.Config)).toEqual(Object.keys(body.Config).sort())
  })

  test('names: multi-segment, ID, ID prefix, digest reference', async () => {
    const id = up.layered!.manifest.config.digest
    for (const name of [
      'docker.io/library/layered:v1',
      id,
      id.slice(7, 19),
      `layered@${up.layered!.digest}`,
      `docker.io/library/layered@${up.layered!.digest}`,
    ]) {
      const { status, body } = await get(`/v1.51/images/${name}/json`)
      expect([name, status, body.Id]).toEqual([name, 200, id])
    }
  })

  test('layered: set config fields, author, the last history comment', async () => {
    const { body } = await get('/v1.51/images/layered/json')
    expect(body.Author).toBe('testbed')
    expect(body.Comment).toBe('cleanup')
    expect(body.Config).toEqual({
      Cmd: ['sh'],
      Entrypoint: ['/bin/sh', '-c'],
      Env: ['PATH=/bin', 'GREETING=hi'],
      ExposedPorts: { '8080/tcp': {} },
      Labels: { 'org.testbed.kind': 'layered' },
      OnBuild: null,
      User: '',
      Volumes: null,
      WorkingDir: '/',
    })
    expect(body.Size).toBe(layerBytes(up.layered!))
  })

  test('platforms: Variant, and a platform the image is not for', async () => {
    const { body } = await get('/v1.51/images/multiarch/json')
    expect([body.Architecture, body.Variant]).toEqual(['arm64', 'v8'])
    const amd64 = enc({ os: 'linux', architecture: 'amd64' })
    expect(await get(`/v1.51/images/multiarch/json?platform=${amd64}`)).toEqual({
      status: 404,
      type: 'application/json',
      body: {
        message:
          'image with reference multiarch was found but its platform (linux/arm64/v8) does not match the specified platform (linux/amd64)',
      },
    })
    expect((await get(`/v1.51/images/multiarch/json?platform=${enc({ os: 'linux', architecture: 'arm64' })}`)).status).toBe(200)
    // before 1.49 the parameter is not read
    expect((await get(`/v1.48/images/multiarch/json?platform=${amd64}`)).status).toBe(200)
    expect((await get(`/v1.51/images/multiarch/json?platform=${enc({ os: 'linux' })}`)).body).toEqual({
      message: 'both OS and Architecture must be provided',
    })
    expect((await get(`/v1.51/images/multiarch/json?manifests=1&platform=${amd64}`)).body).toEqual({
      message: 'conflicting options: manifests and platform options cannot both be set',
    })
  })

  test('older versions: legacy Config keys, Container/ContainerConfig, VirtualSize', async () => {
    const { body } = await get('/v1.43/images/busybox/json')
    expect(body.VirtualSize).toBe(body.Size)
    expect(body.Container).toBe('')
    expect(body.ContainerConfig).toMatchObject({ Hostname: '', AttachStdin: false, Cmd: null, Image: '' })
    expect(body.Config).toMatchObject({ Hostname: '', Domainname: '', Tty: false, Cmd: ['sh'] })
    const at149 = (await get('/v1.49/images/busybox/json')).body
    expect('VirtualSize' in at149 || 'Container' in at149).toBe(false)
    expect(at149.Config.AttachStdout).toBe(false)
  })

  test('404 and 400', async () => {
    expect(await get('/v1.51/images/nope/json')).toEqual({
      status: 404,
      type: 'application/json',
      body: { message: 'No such image: nope:latest' },
    })
    expect(await get('/v1.51/images/library/UPPER/json')).toEqual({
      status: 400,
      type: 'application/json',
      body: { message: 'invalid reference format: repository name (library/UPPER) must be lowercase' },
    })
  })
})

describe('GET /images/{name}/history', () => {
  test('layered: newest first, empty layer 0, ID and tags on top only', async () => {
    const { status, body } = await get('/v1.51/images/layered:v1/history')
    expect(status).toBe(200)
    const sizes = up.layered!.manifest.layers.map((l) => l.size)
    const h = up.layered!.config.history
    expect(body).toEqual([
      { Comment: 'cleanup', Created: Date.parse(h[3].created) / 1000, CreatedBy: h[3].created_by, Id: up.layered!.manifest.config.digest, Size: sizes[2], Tags: ['layered:latest', 'layered:v1'] },
      { Comment: '', Created: Date.parse(h[2].created) / 1000, CreatedBy: h[2].created_by, Id: '<missing>', Size: sizes[1], Tags: null },
      { Comment: '', Created: Date.parse(h[1].created) / 1000, CreatedBy: h[1].created_by, Id: '<missing>', Size: 0, Tags: null },
      { Comment: '', Created: Date.parse(h[0].created) / 1000, CreatedBy: h[0].created_by, Id: '<missing>', Size: sizes[0], Tags: null },
    ])
  })

  test('404', async () => {
    expect((await get('/v1.51/images/nope/history')).body).toEqual({ message: 'No such image: nope:latest' })
  })
})

describe('POST /images/{name}/tag', () => {
  test('201 with no body; the tag lists; LastTagTime is set; an existing tag moves', async () => {
    const res = await api('POST', '/v1.51/images/busybox/tag?repo=docker.io/myrepo/foo&tag=v1')
    expect(res).toEqual({ status: 201, type: null, body: '' })
    const { body } = await get('/v1.51/images/myrepo/foo:v1/json')
    expect(body.Id).toBe(up.busybox!.manifest.config.digest)
    expect(body.RepoTags).toEqual(['busybox:latest', 'myrepo/foo:v1'])
    expect(body.Metadata.LastTagTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
    expect(Date.now() - Date.parse(body.Metadata.LastTagTime)).toBeLessThan(60_000)
    expect((await api('POST', '/images/layered/tag?repo=myrepo/foo&tag=v1')).status).toBe(201)
    expect((await get('/images/myrepo/foo:v1/json')).body.Id).toBe(up.layered!.manifest.config.digest)
    expect((await api('POST', '/images/layered/tag?repo=myrepo/bar')).status).toBe(201)
    expect((await get('/images/myrepo/bar/json')).body.RepoTags).toContain('myrepo/bar:latest')
    expect((await api('DELETE', '/images/myrepo/foo:v1')).status).toBe(200)
    expect((await api('DELETE', '/images/myrepo/bar')).status).toBe(200)
  })

  test('errors: 400 for the new name, 404 for any failure to find the source', async () => {
    const tag = (q: string, name = 'busybox') => api('POST', `/v1.51/images/${name}/tag?${q}`)
    expect((await tag('repo=myrepo&tag=-bad')).body).toEqual({ message: 'invalid tag format' })
    expect((await tag('repo=MyRepo')).body).toEqual({
      message: 'invalid reference format: repository name (library/MyRepo) must be lowercase',
    })
    expect((await tag(`repo=myrepo@${up.busybox!.digest}`)).body).toEqual({ message: 'cannot import digest reference' })
    expect(await tag('repo=sha256&tag=x')).toMatchObject({
      status: 400,
      body: { message: 'refusing to create an ambiguous tag using digest algorithm as name' },
    })
    expect(await tag('repo=myrepo', 'nope')).toMatchObject({ status: 404, body: { message: 'No such image: nope:latest' } })
    expect(await tag('repo=myrepo', 'Nope')).toMatchObject({
      status: 404,
      body: { message: 'invalid reference format: repository name (library/Nope) must be lowercase' },
    })
    // dockerd does nothing, and says nothing, without a repo
    expect(await tag('tag=v1')).toEqual({ status: 200, type: null, body: '' })
  })
})

describe('DELETE /images/{name}', () => {
  test('blank names, several platforms, unknown images', async () => {
    expect((await api('DELETE', '/v1.51/images/%20')).body).toEqual({ message: 'image name cannot be blank' })
    const p = enc({ os: 'linux', architecture: 'amd64' })
    expect((await api('DELETE', `/v1.51/images/busybox?platforms=${p}&platforms=${p}`)).body).toEqual({
      message: 'multiple platforms are not supported',
    })
    expect(await api('DELETE', '/v1.51/images/nope')).toEqual({
      status: 404,
      type: 'application/json',
      body: { message: 'No such image: nope:latest' },
    })
  })

  test('by ID with references in two repositories: 409 unless forced', async () => {
    await api('POST', '/images/many/tag?repo=other&tag=x')
    const id = up.many!.manifest.config.digest
    expect(await api('DELETE', `/v1.51/images/${id.slice(7, 19)}`)).toEqual({
      status: 409,
      type: 'application/json',
      body: {
        message: `conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
      },
    })
    // untagging the extra one by name is no conflict
    expect((await api('DELETE', '/v1.51/images/other:x')).body).toEqual([{ Untagged: 'other:x' }])
  })

  test('rmi busybox: untag, drop its digest, delete; the layer layered and many share stays', async () => {
    const before = await storedBlobs()
    const u = up.busybox!
    const { status, body } = await api('DELETE', '/v1.51/images/busybox')
    expect(status).toBe(200)
    expect(body).toEqual([
      { Untagged: 'busybox:latest' },
      { Untagged: `busybox@${u.digest}` },
      { Deleted: u.manifest.config.digest },
    ])
    const after = await storedBlobs()
    expect([...before.keys()].filter((d) => !after.has(d)).sort()).toEqual(
      [u.manifest.config.digest, u.digest].sort()
    )
    expect(after.has(u.manifest.layers[0]!.digest)).toBe(true)
    expect((await get('/images/busybox/json')).status).toBe(404)
  })

  test('rmi layered by one tag untags only; by the last one deletes and frees its own layers', async () => {
    expect((await api('DELETE', '/images/layered')).body).toEqual([{ Untagged: 'layered:latest' }])
    const before = await storedBlobs()
    const u = up.layered!
    const { body } = await api('DELETE', '/images/layered:v1')
    expect(body.slice(0, 3)).toEqual([
      { Untagged: 'layered:v1' },
      { Untagged: `layered@${u.digest}` },
      { Deleted: u.manifest.config.digest },
    ])
    // then the two layer chains above the shared bottom one
    expect(body.slice(3).map((i: any) => Object.keys(i))).toEqual([['Deleted'], ['Deleted']])
    const after = await storedBlobs()
    const own = [u.manifest.config.digest, u.digest, ...u.manifest.layers.slice(1).map((l) => l.digest)]
    expect([...before.keys()].filter((d) => !after.has(d)).sort()).toEqual(own.sort())
    expect(after.has(u.manifest.layers[0]!.digest)).toBe(true) // many's bottom layer
  })
})

describe('POST /images/prune', () => {
  test('needs API 1.25; filters are checked', async () => {
    expect(await api('POST', '/v1.24/images/prune')).toEqual({
      status: 400,
      type: 'application/json',
      body: { message: 'POST /images/prune requires minimum API version 1.25' },
    })
    expect((await api('POST', `/images/prune?filters=${enc({ reference: { x: true } })}`)).body).toEqual({
      message: "invalid filter 'reference'",
    })
    expect((await api('POST', `/images/prune?filters=${enc({ until: { '1h': true, '2h': true } })}`)).body).toEqual({
      message: 'more than one until filter specified',
    })
  })

  test('dangling (the default): only untagged images; nothing to do is null', async () => {
    expect((await api('POST', '/v1.51/images/prune')).body).toEqual({ ImagesDeleted: null, SpaceReclaimed: 0 })
    // make `many` dangling: drop its tag, keep its digest reference
    const id = up.many!.manifest.config.digest
    await images.deleteTag('docker.io/library/many:latest')
    const dangling = await get(`/v1.42/images/json?filters=${enc({ dangling: { true: true } })}`)
    expect(dangling.body.map((s: any) => [s.Id, s.RepoTags, s.RepoDigests])).toEqual([
      [id, null, [`many@${up.many!.digest}`]],
    ])
    const before = await storedBlobs()
    const { body } = await api('POST', `/v1.51/images/prune?filters=${enc({ dangling: { true: true } })}`)
    const after = await storedBlobs()
    const freed = [...before].filter(([d]) => !after.has(d)).reduce((n, [, size]) => n + size, 0)
    expect(body.SpaceReclaimed).toBe(freed)
    expect(body.ImagesDeleted.slice(0, 2)).toEqual([{ Untagged: `many@${up.many!.digest}` }, { Deleted: id }])
    // many was the last image with the busybox layer at the bottom
    expect(after.has(up.many!.manifest.layers[0]!.digest)).toBe(false)
  })

  test('an image with no reference at all: <none> before API 1.43, pruned by ID', async () => {
    await pull('busybox', 'latest')
    const u = up.busybox!
    const id = u.manifest.config.digest
    await images.deleteTag('docker.io/library/busybox:latest')
    await images.putImage({ ...(await images.getImage(id))!, repoDigests: [] })
    const pick = (body: any[]) => body.filter((s) => s.Id === id).map((s) => [s.RepoTags, s.RepoDigests])
    expect(pick((await get('/v1.42/images/json')).body)).toEqual([[['<none>:<none>'], ['<none>@<none>']]])
    expect(pick((await get('/v1.43/images/json')).body)).toEqual([[[], []]])
    expect(pick((await get(`/images/json?filters=${enc({ dangling: { false: true } })}`)).body)).toEqual([])
    const before = await storedBlobs()
    const { body } = await api('POST', '/v1.51/images/prune')
    expect(body.ImagesDeleted).toEqual([{ Deleted: id }, { Deleted: u.config.rootfs.diff_ids[0] }])
    const own = [id, u.digest, u.manifest.layers[0]!.digest]
    expect(body.SpaceReclaimed).toBe(own.reduce((n, d) => n + before.get(d)!, 0))
  })

  test('dangling=false (prune -a) removes every image; SpaceReclaimed is what the store lost', async () => {
    await pull('busybox', 'latest')
    const before = await storedBlobs()
    const { body } = await api('POST', `/v1.51/images/prune?filters=${enc({ dangling: { false: true } })}`)
    const after = await storedBlobs()
    const freed = [...before].filter(([d]) => !after.has(d)).reduce((n, [, size]) => n + size, 0)
    expect(body.SpaceReclaimed).toBe(freed)
    expect(body.ImagesDeleted).toContainEqual({ Untagged: 'busybox:latest' })
    expect(body.ImagesDeleted).toContainEqual({ Untagged: 'multiarch:latest' })
    expect((await get('/images/json')).body).toEqual([])
    expect(after.size).toBe(0)
  })
})
