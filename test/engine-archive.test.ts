/**
 * GET /images/get, GET /images/{name}/get and POST /images/load against images pulled from
 * the real upstream registry: the archive layout docker 25+ writes, name resolution, round
 * trips into fresh instances, skopeo reading our archives, older and OCI-only layouts, gzip,
 * hostile and corrupted archives (refused, nothing left behind), and streaming.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseFileConfig } from '../src/config.ts'
import { sha256 } from '../src/oci/digest.ts'
import { assemble } from '../src/runtime/assemble.ts'
import type { StorageDriver } from '../src/storage/driver.ts'
import { createImageStore } from '../src/storage/images.ts'
import { blobKey } from '../src/storage/keys.ts'
import { createMemoryDriver } from '../src/storage/memory.ts'
import { chunked, collect, fileBytes, listTar, run, tempDir } from './support/archive.ts'
import { corruptBlob, legacyLayout, withEntry, withManifest } from './support/archive-fixtures.ts'
import { startInProcess, type InProcess } from './support/edgepull.ts'
import { testbed, type Testbed } from './support/testbed.ts'

let tb: Testbed
let source: InProcess
const started: InProcess[] = []
const work = tempDir()

const fresh = async (store: 'memory' | 'fs' = 'memory') => {
  const ep = await startInProcess({ registries: { 'docker.io': { endpoint: tb.url } }, store })
  started.push(ep)
  return ep
}

async function pull(ep: InProcess, name: string, tag = 'latest') {
  const res = await fetch(`${ep.url}/v1.50/images/create?fromImage=docker.io/library/${name}&tag=${tag}`, {
    method: 'POST',
  })
  const text = await res.text()
  if (!text.includes('Status:')) throw new Error(`pull ${name}:${tag} failed: ${text}`)
}

const get = (ep: InProcess, query: string) => fetch(`${ep.url}/v1.50/images/get?${query}`)

async function saved(ep: InProcess, query: string): Promise<Uint8Array> {
  const res = await get(ep, query)
  if (res.status !== 200) throw new Error(`save ${query}: ${res.status} ${await res.text()}`)
  return collect(res.body!)
}

interface Line {
  stream?: string
  status?: string
  id?: string
  progressDetail?: { current?: number; total?: number }
  errorDetail?: { message: string }
  error?: string
}

async function load(ep: InProcess, body: Uint8Array | ReadableStream<Uint8Array>, query = '') {
  const res = await fetch(`${ep.url}/v1.50/images/load${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-tar' },
    body: body as BodyInit,
  })
  const text = await res.text()
  const lines = text.split('\r\n').filter((l) => l).map((l) => JSON.parse(l) as Line)
  return { status: res.status, type: res.headers.get('content-type'), lines, text }
}

const inspectId = async (ep: InProcess, name: string) =>
  ((await (await fetch(`${ep.url}/v1.50/images/${name}/json`)).json()) as { Id: string }).Id

async function keys(driver: StorageDriver): Promise<string[]> {
  const out: string[] = []
  for await (const k of driver.list('')) out.push(k)
  return out.sort()
}

const text = (b: Uint8Array) => new TextDecoder().decode(b)

beforeAll(async () => {
  tb = await testbed('open')
  source = await fresh()
  for (const [name, tag] of [
    ['busybox', 'latest'],
    ['layered', 'latest'],
    ['layered', 'v1'],
    ['busybox-v2s2', 'latest'],
    ['many', 'latest'],
  ]) {
    await pull(source, name!, tag)
  }
}, 120_000)
afterAll(async () => {
  for (const ep of started) await ep.stop()
  rmSync(work, { recursive: true, force: true })
})

describe('save: the layout docker 25+ writes', () => {
  test('busybox: lexical entries, manifest.json, repositories, oci-layout, index.json', async () => {
    const res = await get(source, 'names=busybox')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/x-tar')
    const entries = await listTar(res.body!)
    const names = entries.map((e) => e.name)
    expect(names.slice(0, 2)).toEqual(['blobs/', 'blobs/sha256/'])
    expect(names.slice(-4)).toEqual(['index.json', 'manifest.json', 'oci-layout', 'repositories'])
    const blobs = names.slice(2, -4)
    expect(blobs).toEqual([...blobs].sort())
    const byName = new Map(entries.map((e) => [e.name, e]))

    const record = (await createImageStore(source.driver).getImage(
      (await createImageStore(source.driver).getTag('docker.io/library/busybox:latest'))!
    ))!
    const hex = (d: string) => d.slice(7)
    const held = [record.id, record.manifest.digest, ...record.layers.map((l) => l.digest)]
    expect(blobs.sort()).toEqual(held.map((d) => `blobs/sha256/${hex(d)}`).sort())
    expect(JSON.parse(byName.get('manifest.json')!.body)).toEqual([
      {
        Config: `blobs/sha256/${hex(record.id)}`,
        RepoTags: ['busybox:latest'],
        Layers: record.layers.map((l) => `blobs/sha256/${hex(l.digest)}`),
      },
    ])
    expect(byName.get('manifest.json')!.body.endsWith(']\n')).toBe(true)
    expect(byName.get('repositories')!.body).toBe(
      `{"busybox":{"latest":"${hex(record.layers.at(-1)!.diffId)}"}}\n`
    )
    expect(byName.get('oci-layout')!.body).toBe('{"imageLayoutVersion": "1.0.0"}')
    expect(JSON.parse(byName.get('index.json')!.body)).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: record.manifest.mediaType,
          digest: record.manifest.digest,
          size: record.manifest.size,
          annotations: {
            'io.containerd.image.name': 'docker.io/library/busybox:latest',
            'org.opencontainers.image.ref.name': 'latest',
          },
        },
      ],
    })
    // blobs carry the image's creation time, metadata the epoch
    const created = Math.floor(Date.parse(record.created) / 1000)
    expect(byName.get(`blobs/sha256/${hex(record.id)}`)!.mtime).toBe(created)
    expect(byName.get('manifest.json')!.mtime).toBe(0)
    // every blob is the bytes its name says
    for (const b of blobs) expect(sha256(byName.get(b)!.bytes)).toBe(`sha256:${b.slice(13)}`)
  }, 60_000)

  test('a bare name saves every tag; name:tag one tag; an ID untagged; duplicates once', async () => {
    const manifestOf = async (query: string) => {
      const entries = await listTar(chunked(await saved(source, query)))
      return {
        manifest: JSON.parse(entries.find((e) => e.name === 'manifest.json')!.body),
        names: entries.map((e) => e.name),
      }
    }
    const all = await manifestOf('names=layered')
    expect(all.manifest).toHaveLength(1)
    expect(all.manifest[0].RepoTags.sort()).toEqual(['layered:latest', 'layered:v1'])

    const one = await manifestOf('names=layered:v1')
    expect(one.manifest[0].RepoTags).toEqual(['layered:v1'])

    const id = await inspectId(source, 'busybox')
    const byId = await manifestOf(`names=${id.slice(7, 19)}`)
    expect(byId.manifest[0].RepoTags).toBeNull()
    expect(byId.names).not.toContain('repositories')

    const both = await manifestOf(`names=busybox&names=${id}&names=busybox:latest&names=layered:v1`)
    expect(both.manifest.map((m: any) => m.RepoTags)).toEqual([['busybox:latest'], ['layered:v1']])
    expect(new Set(both.names).size).toBe(both.names.length)
  }, 60_000)

  test('GET /images/{name}/get takes multi-segment names', async () => {
    const res = await fetch(`${source.url}/v1.50/images/docker.io/library/busybox:latest/get`)
    expect(res.status).toBe(200)
    const entries = await listTar(res.body!)
    expect(JSON.parse(entries.find((e) => e.name === 'manifest.json')!.body)[0].RepoTags).toEqual(['busybox:latest'])
  }, 60_000)

  test('unknown names are JSON errors before any byte', async () => {
    for (const [query, status, message] of [
      ['names=busybox:nope', 404, 'reference does not exist'],
      ['names=nope', 404, 'No such image: nope'],
      [`names=sha256:${'0'.repeat(64)}`, 404, `No such image: sha256:${'0'.repeat(64)}`],
      ['names=busybox&names=Bad', 400, 'invalid reference format: repository name (library/Bad) must be lowercase'],
    ] as const) {
      const res = await get(source, query)
      expect(res.status).toBe(status)
      expect(res.headers.get('content-type')).toBe('application/json')
      expect(await res.json()).toEqual({ message })
    }
  })

  test('platform: one JSON value from 1.48, several refused, a mismatch refused', async () => {
    const amd64 = encodeURIComponent('{"os":"linux","architecture":"amd64"}')
    const arm64 = encodeURIComponent('{"os":"linux","architecture":"arm64"}')
    expect((await get(source, `names=busybox&platform=${amd64}`)).status).toBe(200)
    const mismatch = await get(source, `names=busybox&platform=${arm64}`)
    expect(mismatch.status).toBe(404)
    expect(await mismatch.json()).toEqual({ message: 'no suitable export target found for platform linux/arm64' })
    const several = await get(source, `names=busybox&platform=${amd64}&platform=${arm64}`)
    expect(several.status).toBe(400)
    expect((await several.json()).message).toBe(
      'multiple platform parameters are not supported in this API version; use API version 1.52 or later'
    )
    const bad = await get(source, 'names=busybox&platform=%7B%22os%22%3A%22linux%22%7D')
    expect(bad.status).toBe(400)
    expect((await bad.json()).message).toBe('both OS and Architecture must be provided')
    // ignored before 1.48, as by moby
    const old = await fetch(`${source.url}/v1.47/images/get?names=busybox&platform=${arm64}`)
    expect(old.status).toBe(200)
    await old.body!.cancel()
  })

  test('a blob that fails its digest mid-stream ends the tar with a JSON error line', async () => {
    const ep = await fresh()
    await pull(ep, 'busybox')
    const record = (await createImageStore(ep.driver).getImage(
      (await createImageStore(ep.driver).getTag('docker.io/library/busybox:latest'))!
    ))!
    const layer = record.layers[0]
    const wrong = new Uint8Array(layer.size).fill(7)
    await ep.driver.put(blobKey(layer.digest), wrong) // behind the blob store's back
    const res = await get(ep, 'names=busybox')
    expect(res.status).toBe(200)
    const body = text(await collect(res.body!))
    const last = body.slice(body.lastIndexOf('{"errorDetail"'))
    expect(JSON.parse(last)).toEqual({
      errorDetail: { message: `digest mismatch: expected ${layer.digest}, got ${sha256(wrong)}` },
      error: `digest mismatch: expected ${layer.digest}, got ${sha256(wrong)}`,
    })
    expect(last.endsWith('\r\n')).toBe(true)
  }, 60_000)
})

describe('skopeo reads our archives', () => {
  test('skopeo inspect docker-archive: and copy to oci:', async () => {
    const file = join(work, 'busybox.tar')
    writeFileSync(file, await saved(source, 'names=layered:latest'))
    const info = JSON.parse(run(['skopeo', 'inspect', `docker-archive:${file}`]))
    const record = (await createImageStore(source.driver).getImage(
      (await createImageStore(source.driver).getTag('docker.io/library/layered:latest'))!
    ))!
    expect(info.Layers).toEqual(record.layers.map((l) => l.diffId))
    expect(info.Architecture).toBe('amd64')
    const config = JSON.parse(run(['skopeo', 'inspect', '--config', `docker-archive:${file}`]))
    expect(config.rootfs.diff_ids).toEqual(record.layers.map((l) => l.diffId))
    const dir = join(work, 'oci')
    run(['skopeo', 'copy', '-q', `docker-archive:${file}`, `oci:${dir}:layered`])
    const index = JSON.parse(text(fileBytes(join(dir, 'index.json'))))
    expect(index.manifests).toHaveLength(1)
    // and its OCI half: the index.json side of the same archive
    const oci = JSON.parse(run(['skopeo', 'inspect', `oci-archive:${file}`]))
    expect(oci.Layers).toEqual(record.layers.map((l) => l.digest))
  }, 60_000)
})

describe('load', () => {
  test('save, then load into a fresh instance: same image ID, tags, blobs', async () => {
    const archive = await saved(source, 'names=busybox&names=layered')
    const target = await fresh()
    const r = await load(target, archive)
    expect(r.status).toBe(200)
    expect(r.type).toBe('application/json')
    expect(r.lines.map((l) => l.stream).sort()).toEqual(
      ['Loaded image: busybox:latest\n', 'Loaded image: layered:latest\n', 'Loaded image: layered:v1\n'].sort()
    )
    for (const name of ['busybox', 'layered:latest', 'layered:v1']) {
      expect(await inspectId(target, name)).toBe(await inspectId(source, name))
    }
    const images = createImageStore(target.driver)
    const rec = (await images.getImage((await images.getTag('docker.io/library/busybox:latest'))!))!
    const orig = (await createImageStore(source.driver).getImage(rec.id))!
    expect(rec.layers).toEqual(orig.layers)
    expect(rec.manifest).toEqual(orig.manifest)
    expect(rec.repoDigests).toEqual([])
    expect(rec.lastTagTime).toBeString()
    // nothing but what the images hold
    const blobs = (await keys(target.driver)).filter((k) => k.startsWith('blobs/'))
    const held = new Set<string>()
    for await (const img of images.listImages()) {
      for (const d of [img.id, img.manifest.digest, ...img.layers.map((l) => l.digest)]) held.add(blobKey(d))
    }
    expect(blobs.sort()).toEqual([...held].sort())
    // and the loaded image saves again, identically
    const again = await saved(target, 'names=busybox&names=layered')
    expect(again).toEqual(archive)
  }, 60_000)

  test('a gzip-compressed archive loads, fed in small chunks', async () => {
    const gz = await collect(
      chunked(await saved(source, 'names=busybox')).pipeThrough(new CompressionStream('gzip') as any)
    )
    const target = await fresh()
    const r = await load(target, chunked(gz, 1000))
    expect(r.lines).toEqual([{ stream: 'Loaded image: busybox:latest\n' }])
    expect(await inspectId(target, 'busybox')).toBe(await inspectId(source, 'busybox'))
  }, 60_000)

  test('quiet=0 reports the layers it loaded; quiet is the default', async () => {
    const archive = await saved(source, 'names=many')
    const target = await fresh()
    const loud = await load(target, archive, '?quiet=0')
    const layers = loud.lines.filter((l) => l.status === 'Loading layer')
    const rec = (await createImageStore(source.driver).getImage(await inspectId(source, 'many') as any))!
    expect(layers.map((l) => l.id)).toEqual(rec.layers.map((l) => l.diffId.slice(7, 19)))
    for (const [i, l] of layers.entries()) {
      expect(l.progressDetail).toEqual({ current: rec.layers[i].size, total: rec.layers[i].size })
    }
    expect(loud.lines.at(-1)).toEqual({ stream: 'Loaded image: many:latest\n' })
    const quiet = await load(await fresh(), archive)
    expect(quiet.lines).toEqual([{ stream: 'Loaded image: many:latest\n' }])
  }, 60_000)

  test('an untagged archive prints the image ID; a moved tag is announced', async () => {
    const id = await inspectId(source, 'busybox')
    const target = await fresh()
    const untagged = await load(target, await saved(source, `names=${id}`))
    expect(untagged.lines).toEqual([{ stream: `Loaded image ID: ${id}\n` }])

    // busybox:latest already names another image in the target
    const other = await fresh()
    await pull(other, 'layered')
    const layeredId = await inspectId(other, 'layered')
    await fetch(`${other.url}/v1.50/images/layered/tag?repo=docker.io/library/busybox&tag=latest`, { method: 'POST' })
    const moved = await load(other, await saved(source, 'names=busybox'))
    const renamed = `renaming the old one with ID ${layeredId} to empty string`
    expect(moved.lines).toEqual([
      { stream: `The image busybox:latest already exists, ${renamed}\n` },
      { stream: 'Loaded image: busybox:latest\n' },
    ])
    expect(await inspectId(other, 'busybox')).toBe(id)
  }, 60_000)

  test('the pre-25 layout (<id>/layer.tar, <hex>.json, symlinked layer) loads, on the fs store', async () => {
    const legacy = legacyLayout(await saved(source, 'names=layered:latest'))
    const names = (await listTar(chunked(legacy))).map((e) => e.name)
    expect(names.at(-1)).toBe('manifest.json')
    expect(names).toContain('alias/layer.tar')
    const target = await fresh('fs')
    const r = await load(target, legacy)
    expect(r.lines).toEqual([{ stream: 'Loaded image: layered:latest\n' }])
    const id = await inspectId(source, 'layered')
    expect(await inspectId(target, 'layered')).toBe(id)
    const rec = (await createImageStore(target.driver).getImage(id as any))!
    for (const l of rec.layers) {
      expect(l.digest).toBe(l.diffId)
      expect(l.mediaType).toBe('application/vnd.oci.image.layer.v1.tar')
    }
    // the uncompressed layers and a generated OCI manifest, nothing else (no v1 json files)
    const blobs = (await keys(target.driver)).filter((k) => k.startsWith('blobs/'))
    expect(blobs.sort()).toEqual(
      [rec.id, rec.manifest.digest, ...rec.layers.map((l) => l.digest)].map(blobKey).sort()
    )
    // the loaded image saves and loads again
    const again = await fresh()
    expect((await load(again, await saved(target, 'names=layered'))).lines).toEqual([
      { stream: 'Loaded image: layered:latest\n' },
    ])
  }, 60_000)

  test('an OCI layout with only index.json (skopeo oci-archive) loads by its annotations', async () => {
    const file = join(work, 'src.tar')
    const out = join(work, 'oci-only.tar')
    writeFileSync(file, await saved(source, 'names=busybox'))
    run(['skopeo', 'copy', '-q', `docker-archive:${file}`, `oci-archive:${out}:docker.io/library/busybox:latest`])
    const entries = await listTar(chunked(fileBytes(out)))
    expect(entries.map((e) => e.name)).not.toContain('manifest.json')
    // skopeo rewrites the config for OCI, so the image ID is that of the archive's config
    const byName = new Map(entries.map((e) => [e.name, e]))
    const top = JSON.parse(byName.get('index.json')!.body).manifests[0]
    const manifest = JSON.parse(byName.get(`blobs/sha256/${top.digest.slice(7)}`)!.body)
    const target = await fresh()
    const r = await load(target, fileBytes(out))
    expect(r.lines).toEqual([{ stream: 'Loaded image: busybox:latest\n' }])
    expect(await inspectId(target, 'busybox')).toBe(manifest.config.digest)
    const rec = (await createImageStore(target.driver).getImage(manifest.config.digest))!
    expect(rec.manifest.digest).toBe(top.digest)
    expect(rec.layers.map((l) => l.digest)).toEqual(manifest.layers.map((l: any) => l.digest))
  }, 60_000)
})

describe('load refuses bad archives and leaves nothing behind', () => {
  const expectRefused = async (archive: Uint8Array | ReadableStream<Uint8Array>, message: string | RegExp) => {
    const target = await fresh()
    const r = await load(target, archive)
    expect(r.status).toBe(200)
    expect(r.type).toBe('application/json')
    expect(r.lines).toHaveLength(1)
    const err = r.lines[0]!
    expect(err.error).toBe(err.errorDetail?.message)
    if (typeof message === 'string') expect(err.errorDetail?.message).toBe(message)
    else expect(err.errorDetail?.message).toMatch(message)
    expect(await keys(target.driver)).toEqual([])
  }

  let busybox: Uint8Array
  beforeAll(async () => {
    busybox = await saved(source, 'names=busybox')
  })

  test('an entry named ../x', () =>
    expectRefused(withEntry(busybox, 'file', '../x'), 'invalid archive: "../x" is outside of the archive'))

  test('an absolute entry name', () =>
    expectRefused(withEntry(busybox, 'file', '/etc/x'), 'invalid archive: "/etc/x" is an absolute path'))

  test('a symlink escaping the archive', () =>
    expectRefused(
      withEntry(busybox, 'symlink', 'blobs/evil', '../../etc/passwd'),
      'invalid archive: invalid symlink "blobs/evil" -> "../../etc/passwd"'
    ))

  test('an absolute symlink and an escaping hardlink', async () => {
    await expectRefused(
      withEntry(busybox, 'symlink', 'evil', '/etc/passwd'),
      'invalid archive: invalid symlink "evil" -> "/etc/passwd"'
    )
    await expectRefused(
      withEntry(busybox, 'hardlink', 'evil', '../x'),
      'invalid archive: invalid hardlink "evil" -> "../x"'
    )
  })

  test('a corrupted layer blob', async () => {
    const rec = (await createImageStore(source.driver).getImage(await inspectId(source, 'busybox') as any))!
    const layer = rec.layers[0]!
    await expectRefused(
      corruptBlob(busybox, layer.digest.slice(7)),
      new RegExp(
        `^invalid archive: blobs/sha256/${layer.digest.slice(7)}: digest mismatch: expected ${layer.digest}, got sha256:`
      )
    )
  })

  test('a legacy layer whose DiffID is not the config\'s', async () => {
    const legacy = legacyLayout(await saved(source, 'names=layered:latest'))
    const entries = await listTar(chunked(legacy))
    const top = JSON.parse(entries.find((e) => e.name === 'manifest.json')!.body)[0].Layers.at(-1)
    const broken = corruptBlobPath(legacy, top)
    const d = 'sha256:[0-9a-f]{64}'
    await expectRefused(broken, new RegExp(`^invalid diffID for layer 2: expected "${d}", got "${d}"$`))
  })

  test('manifest.json problems, in moby\'s words', async () => {
    await expectRefused(withManifest(busybox, 'null'), 'invalid manifest, manifest cannot be null (but can be [])')
    const item = JSON.parse((await listTar(chunked(busybox))).find((e) => e.name === 'manifest.json')!.body)
    const short = [{ ...item[0], Layers: [] }]
    await expectRefused(
      withManifest(busybox, JSON.stringify(short)),
      'invalid manifest, layers length mismatch: expected 0, got 1'
    )
    const badTag = [{ ...item[0], RepoTags: ['busybox@sha256:' + '0'.repeat(64)] }]
    await expectRefused(
      withManifest(busybox, JSON.stringify(badTag)),
      `invalid tag "busybox@sha256:${'0'.repeat(64)}"`
    )
  })

  test('an empty body, a truncated archive, an unsupported compression', async () => {
    await expectRefused(new Uint8Array(0), 'invalid archive: does not contain a manifest.json')
    await expectRefused(busybox.subarray(0, busybox.byteLength / 2), 'unexpected EOF')
    const zstd = join(work, 'b.tar')
    writeFileSync(zstd, busybox)
    run(['zstd', '-q', '-f', zstd])
    await expectRefused(fileBytes(`${zstd}.zst`), 'unsupported compression format zstd')
  })
})

describe('load leaves the store as it was', () => {
  test('an archive whose images are all for another platform loads nothing and keeps nothing', async () => {
    const target = await fresh()
    const arm64 = encodeURIComponent('{"os":"linux","architecture":"arm64"}')
    const r = await load(target, await saved(source, 'names=busybox'), `?platform=${arm64}`)
    expect(r.status).toBe(200)
    expect(r.lines).toEqual([])
    expect(await keys(target.driver)).toEqual([])
    const bad = await load(target, new Uint8Array(0), '?platform=%7B%7D')
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.text)).toEqual({ message: 'both OS and Architecture must be provided' })
  }, 60_000)

  test('blobs the store already has are checked against the archive, not rewritten', async () => {
    const before = await keys(source.driver)
    const archive = await saved(source, 'names=busybox')
    expect((await load(source, archive)).lines).toEqual([{ stream: 'Loaded image: busybox:latest\n' }])
    expect(await keys(source.driver)).toEqual(before)
    const rec = (await createImageStore(source.driver).getImage((await inspectId(source, 'busybox')) as any))!
    const corrupt = corruptBlob(archive, rec.layers[0]!.digest.slice(7))
    const refused = await load(source, corrupt)
    expect(refused.lines[0]!.errorDetail?.message).toContain('digest mismatch')
    expect(await keys(source.driver)).toEqual(before)
  }, 60_000)

  test('a request body that fails midway (client gone) leaves nothing', async () => {
    const driver = createMemoryDriver()
    const app = assemble({
      config: parseFileConfig('{}'),
      driver,
      fetch: () => Promise.reject(new Error('offline')),
      runtime: { name: 'bun', version: Bun.version, os: 'linux', arch: 'amd64' },
    })
    const archive = await saved(source, 'names=many')
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent > archive.byteLength * 0.8) return c.error(new Error('client went away'))
        c.enqueue(archive.slice(sent, sent + 65_536))
        sent += 65_536
      },
    })
    const req = new Request('http://edgepull/v1.50/images/load', { method: 'POST', body, duplex: 'half' } as any)
    const res = await app.fetch(req)
    const line = JSON.parse((await res.text()).trim())
    expect(line.errorDetail.message).toBe('client went away')
    expect(await keys(driver)).toEqual([])
  }, 60_000)
})

// Flips a byte inside the file at `path` of an archive (any entry, not only blobs).
function corruptBlobPath(archive: Uint8Array, path: string): Uint8Array {
  const out = archive.slice()
  const name = new TextEncoder().encode(path)
  for (let at = 0; at + 512 <= out.length; at += 512) {
    if (name.every((b, i) => out[at + i] === b) && out[at + name.length] === 0) {
      out[at + 512 + 600] ^= 0xff
      return out
    }
  }
  throw new Error(`${path} not found`)
}

describe('save streams', () => {
  test('saving the 64 MiB big image reads the store only as the client reads', async () => {
    let read = 0
    const base = createMemoryDriver()
    const counting: StorageDriver = {
      ...base,
      name: 'counting',
      stat: (k) => base.stat(k),
      put: (k, b, o) => base.put(k, b, o),
      delete: (k) => base.delete(k),
      list: (p) => base.list(p),
      async get(key, range) {
        const o = await base.get(key, range)
        if (!o || o.info.size < 32 << 20) return o
        const body = o.body.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, c) {
              read += chunk.byteLength
              c.enqueue(chunk)
            },
          }),
          // no read-ahead beyond what the pipe itself holds
        )
        return { ...o, body }
      },
    }
    const app = assemble({
      config: parseFileConfig(JSON.stringify({ registries: { 'docker.io': { endpoint: tb.url } } })),
      driver: counting,
      fetch: (req) => fetch(req),
      runtime: { name: 'bun', version: Bun.version, os: 'linux', arch: 'amd64' },
    })
    const pullUrl = 'http://edgepull/v1.50/images/create?fromImage=docker.io/library/big&tag=latest'
    const pulled = await app.fetch(new Request(pullUrl, { method: 'POST' }))
    expect(await pulled.text()).toContain('Status: Downloaded newer image for big:latest')
    read = 0
    const res = await app.fetch(new Request('http://edgepull/v1.50/images/get?names=big'))
    const reader = res.body!.getReader()
    let received = 0
    while (received < 4 << 20) received += (await reader.read()).value!.byteLength
    await Bun.sleep(200)
    // the client has 4 MiB; the server has read little more than that of the 64 MiB layer
    expect(read).toBeGreaterThan(0)
    expect(read).toBeLessThan(12 << 20)
    for (;;) {
      const r = await reader.read()
      if (r.done) break
      received += r.value.byteLength
    }
    expect(read).toBeGreaterThanOrEqual(64 << 20)
    expect(received).toBeGreaterThan(64 << 20)
  }, 120_000)
})
