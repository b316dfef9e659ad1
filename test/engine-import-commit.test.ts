/**
 * POST /images/create?fromSrc (docker import) and POST /commit against an in-process
 * edgepull: plain and gzip tars built with `tar`, DiffIDs checked against the uncompressed
 * bytes, `changes` applied, URL imports from an allow-listed host, Docker's errors.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { sha256, type Digest } from '../src/oci/digest.ts'
import { createBlobStore } from '../src/storage/blobs.ts'
import { createImageStore, type ImageRecord } from '../src/storage/images.ts'
import { startInProcess, type InProcess } from './support/edgepull.ts'
import { readMessages } from './support/ndjson.ts'
import { testbed, type Testbed } from './support/testbed.ts'

let tb: Testbed
let ep: InProcess
let work: string
let plainTar: Uint8Array
let gzipTar: Uint8Array

beforeAll(async () => {
  tb = await testbed('open')
  ep = await startInProcess({ registries: { [tb.host]: {} }, platform: 'linux/amd64' })
  work = mkdtempSync(join(tmpdir(), 'edgepull-import-'))
  mkdirSync(join(work, 'root/etc'), { recursive: true })
  writeFileSync(join(work, 'root/etc/motd'), 'imported by a test\n')
  writeFileSync(join(work, 'root/data.bin'), crypto.getRandomValues(new Uint8Array(50_000)))
  execFileSync('tar', ['-cf', join(work, 'plain.tar'), '-C', join(work, 'root'), '.'])
  execFileSync('tar', ['-czf', join(work, 'rootfs.tar.gz'), '-C', join(work, 'root'), '.'])
  plainTar = readFileSync(join(work, 'plain.tar'))
  gzipTar = readFileSync(join(work, 'rootfs.tar.gz'))
}, 60_000)
afterAll(async () => {
  await ep?.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

const q = (params: [string, string][]) => new URLSearchParams(params).toString()

function importTar(body: Uint8Array | null, params: [string, string][]) {
  return fetch(`${ep.url}/v1.50/images/create?${q([['fromSrc', '-'], ...params])}`, {
    method: 'POST',
    // what the CLI sends: chunked, text/plain
    headers: { 'content-type': 'text/plain' },
    body: (body ?? undefined) as BodyInit | undefined,
  })
}

const commit = (params: [string, string][], body?: object) =>
  fetch(`${ep.url}/v1.50/commit?${q(params)}`, {
    method: 'POST',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  })

async function stored(id: string): Promise<{ record: ImageRecord; config: any; manifest: any }> {
  const blobs = createBlobStore(ep.driver)
  const record = (await createImageStore(ep.driver).getImage(id as Digest))!
  const json = async (d: Digest) => JSON.parse(new TextDecoder().decode((await blobs.bytes(d, 1 << 20))!))
  return { record, config: await json(record.id), manifest: await json(record.manifest.digest) }
}

const layerBytes = async (d: Digest) => {
  const blob = await createBlobStore(ep.driver).get(d)
  return new Uint8Array(await new Response(blob!.body).arrayBuffer())
}

describe('import from the request body', () => {
  test('a plain tar: one gzip layer, DiffID of the tar, changes applied, tagged', async () => {
    const res = await importTar(plainTar, [
      ['repo', 'myimg:v2'],
      ['changes', 'CMD ["sh"]'],
      ['changes', 'ENV A=1 B="two words"'],
      ['changes', 'EXPOSE 8080'],
      ['changes', 'LABEL org.example=yes'],
      ['changes', 'WORKDIR /srv'],
    ])
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    const ms = await readMessages(res)
    expect(ms).toHaveLength(1)
    const id = ms[0]!.status!
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/)

    const { record, config, manifest } = await stored(id)
    expect(record.id).toBe(id as Digest)
    expect(sha256(JSON.stringify(config))).toBe(id as Digest)
    expect(record.layers).toHaveLength(1)
    const layer = record.layers[0]!
    expect(layer.diffId).toBe(sha256(plainTar))
    expect(config.rootfs).toEqual({ type: 'layers', diff_ids: [sha256(plainTar)] })
    const blob = await layerBytes(layer.digest)
    expect(sha256(blob)).toBe(layer.digest)
    expect(blob.byteLength).toBe(layer.size)
    expect(new Uint8Array(gunzipSync(blob))).toEqual(new Uint8Array(plainTar))
    expect(layer.mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip')

    expect(config.config).toEqual({
      Cmd: ['sh'],
      Env: ['A=1', 'B=two words'],
      ExposedPorts: { '8080/tcp': {} },
      Labels: { 'org.example': 'yes' },
      WorkingDir: '/srv',
    })
    expect(config).toMatchObject({ os: 'linux', architecture: 'amd64', comment: 'Imported from -' })
    expect(config.history).toEqual([{ created: config.created, comment: 'Imported from -' }])
    expect(manifest).toMatchObject({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: id },
      layers: [{ digest: layer.digest, size: layer.size }],
    })
    expect(await createImageStore(ep.driver).getTag('docker.io/library/myimg:v2')).toBe(id as Digest)
    expect(record.lastTagTime).toBeString()
  })

  test('a gzip tar: the DiffID is the digest of the uncompressed tar', async () => {
    const res = await importTar(gzipTar, [
      ['repo', 'docker.io/library/gz'],
      ['tag', 'one'],
      ['message', 'from a gzip'],
      ['platform', 'linux/arm64/v8'],
    ])
    expect(res.status).toBe(200)
    const id = (await readMessages(res))[0]!.status!
    const { record, config } = await stored(id)
    const uncompressed = gunzipSync(gzipTar)
    expect(record.layers[0]!.diffId).toBe(sha256(uncompressed))
    expect(new Uint8Array(gunzipSync(await layerBytes(record.layers[0]!.digest)))).toEqual(
      new Uint8Array(uncompressed)
    )
    expect(config).toMatchObject({ architecture: 'arm64', variant: 'v8', comment: 'from a gzip' })
    expect(record.platform).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' })
    expect(await createImageStore(ep.driver).getTag('docker.io/library/gz:one')).toBe(id as Digest)
  })

  test('without repo the image is untagged; the same tar twice shares the layer blob', async () => {
    const a = (await readMessages(await importTar(plainTar, [])))[0]!.status!
    const b = (await readMessages(await importTar(plainTar, [['repo', 'twice']])))[0]!.status!
    const [ra, rb] = [(await stored(a)).record, (await stored(b)).record]
    expect(ra.layers[0]!.digest).toBe(rb.layers[0]!.digest)
    for await (const { id } of createImageStore(ep.driver).listTags()) expect(id).not.toBe(a as Digest)
    // nothing staged is left behind
    for await (const key of ep.driver.list('uploads/')) throw new Error(`left over: ${key}`)
  })

  test('refusals: digest repo, bad change, not a tar, truncated, other compressions, empty', async () => {
    const expectError = async (res: Response, status: number, message: string | RegExp) => {
      expect(res.status).toBe(status)
      expect(res.headers.get('content-type')).toBe('application/json')
      expect(((await res.json()) as { message: string }).message).toMatch(message)
    }
    await expectError(
      await importTar(plainTar, [['repo', `foo@sha256:${'a'.repeat(64)}`]]),
      400,
      'cannot import digest reference'
    )
    const run = await importTar(plainTar, [['changes', 'RUN rm -rf /']])
    await expectError(run, 400, 'run is not a valid change command')
    const text = new TextEncoder().encode('x'.repeat(2000))
    await expectError(await importTar(text, []), 400, /not a tar archive/)
    const bzip2 = new Uint8Array([0x42, 0x5a, 0x68, 0x39, 1, 2, 3])
    await expectError(await importTar(bzip2, []), 400, /bzip2/)
    await expectError(await importTar(gzipTar.subarray(0, 60), []), 400, /gzip|tar/)
    await expectError(await importTar(plainTar.subarray(0, 5000), []), 400, /truncated/)
    await expectError(await importTar(null, []), 400, /empty/)
    await expectError(await importTar(plainTar, [['repo', 'Upper:v1']]), 400, /must be lowercase/)
  })
})

describe('import from a URL', () => {
  test('an allow-listed host: Downloading from, Importing progress, the id', async () => {
    const manifest = (await (
      await fetch(`${tb.url}/v2/library/busybox/manifests/latest`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      })
    ).json()) as any
    const layer = manifest.layers[0]
    const url = `${tb.url}/v2/library/busybox/blobs/${layer.digest}`
    const res = await fetch(`${ep.url}/v1.50/images/create?${q([['fromSrc', url], ['repo', 'fromurl']])}`, {
      method: 'POST',
    })
    expect(res.status).toBe(200)
    const ms = await readMessages(res)
    expect(ms[0]).toEqual({ status: `Downloading from ${url}` })
    const importing = ms.filter((m) => m.status === 'Importing')
    expect(importing.length).toBeGreaterThan(0)
    expect(importing.at(-1)!.progressDetail).toEqual({ current: layer.size, total: layer.size })
    expect(importing.every((m) => m.id === undefined)).toBe(true)
    const id = ms.at(-1)!.status!
    expect(id).toMatch(/^sha256:/)
    const { record, config } = await stored(id)
    const blob = await (await fetch(url)).arrayBuffer()
    expect(record.layers[0]!.diffId).toBe(sha256(gunzipSync(new Uint8Array(blob))))
    expect(config.comment).toBe(`Imported from ${url}`)
  }, 30_000)

  test('any other host is refused with 403 before anything is fetched', async () => {
    const res = await fetch(`${ep.url}/v1.50/images/create?fromSrc=${encodeURIComponent('example.com/x.tar')}`, {
      method: 'POST',
    })
    expect(res.status).toBe(403)
    expect(((await res.json()) as any).message).toContain('importing from example.com is not allowed')
  })
})

describe('commit (container names an image)', () => {
  test('keeps the layers, changes the config, adds an empty-layer history entry', async () => {
    const imported = await importTar(plainTar, [
      ['repo', 'base:1'],
      ['changes', 'CMD ["sh"]'],
      ['changes', 'ENV A=1'],
    ])
    const src = (await readMessages(imported))[0]!.status!
    const res = await commit(
      [
        ['container', 'base:1'],
        ['repo', 'docker.io/library/committed'],
        ['tag', 'v1'],
        ['comment', 'a message'],
        ['author', 'me <me@example.com>'],
        ['changes', 'ENV B=2'],
        ['changes', 'LABEL l=v'],
        ['pause', '0'],
      ],
      { Cmd: ['echo', 'hi'], Env: ['C=3'], Hostname: 'ignored' }
    )
    expect(res.status).toBe(201)
    const { Id } = (await res.json()) as { Id: string }
    expect(Id).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(Id).not.toBe(src)
    const before = await stored(src)
    const after = await stored(Id)
    expect(after.record.layers).toEqual(before.record.layers)
    expect(after.config.rootfs).toEqual(before.config.rootfs)
    // the body's config, the changes on top, then the gaps filled from the source
    expect(after.config.config).toEqual({
      Cmd: ['echo', 'hi'],
      Env: ['C=3', 'B=2', 'A=1'],
      Labels: { l: 'v' },
    })
    expect(after.config.history).toHaveLength(2)
    expect(after.config.history[1]).toEqual({
      created: after.config.created,
      author: 'me <me@example.com>',
      created_by: 'sh',
      comment: 'a message',
      empty_layer: true,
    })
    expect(after.config.author).toBe('me <me@example.com>')
    expect(after.manifest.config.digest).toBe(Id)
    expect(after.manifest.layers.map((l: any) => l.digest)).toEqual(before.record.layers.map((l) => l.digest))
    expect(after.record.manifest.digest).toBe(sha256(JSON.stringify(after.manifest)))
    expect(await createImageStore(ep.driver).getTag('docker.io/library/committed:v1')).toBe(Id as Digest)
  })

  test('without a body the source config is the base; ENTRYPOINT drops CMD', async () => {
    const res = await commit([
      ['container', 'base:1'],
      ['repo', ''],
      ['tag', ''],
      ['author', ''],
      ['comment', ''],
      ['changes', 'ENTRYPOINT ["/bin/app"]'],
    ])
    expect(res.status).toBe(201)
    const { config } = await stored(((await res.json()) as any).Id)
    expect(config.config).toEqual({ Entrypoint: ['/bin/app'], Cmd: null, Env: ['A=1'], Labels: {} })
    expect(config.history.at(-1)).toEqual({ created: config.created, created_by: 'sh', empty_layer: true })
  })

  test('by ID prefix; unknown images, bad changes and digest repos are refused', async () => {
    const src = (await readMessages(await importTar(plainTar, [['repo', 'base:2']])))[0]!.status!
    const byPrefix = await commit([['container', src.slice(7, 19)]])
    expect(byPrefix.status).toBe(201)
    const missing = await commit([['container', 'nope']])
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ message: 'No such image: nope:latest' })
    const bad = await commit([['container', 'base:2'], ['changes', 'ADD . /']])
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ message: 'add is not a valid change command' })
    const digest = await commit([['container', 'base:2'], ['repo', `x@sha256:${'b'.repeat(64)}`]])
    expect(digest.status).toBe(400)
  })
})
