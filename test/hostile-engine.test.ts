/**
 * Hostile input on every Engine API route, against edgepull over the real testbed registry:
 * bad references, digests, filters, query values and JSON; bodies past `limits`; gzip bombs,
 * tar bombs, path traversal and link escapes in load and import; oversized headers on the
 * real Node entry. After each one: the right 4xx in the route's error format (`{"message"}`,
 * exactly application/json; load's in-stream errors), /_ping answers, and the image pulled
 * before is still there, every blob of it intact.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeHeader, padded, type TarType } from '../src/archive/tar-header.ts'
import { concatBytes } from '../src/oci/bytes.ts'
import type { Digest } from '../src/oci/digest.ts'
import { createBlobStore } from '../src/storage/blobs.ts'
import { createImageStore } from '../src/storage/images.ts'
import { fileBytes, run, tempDir } from './support/archive.ts'
import { startInProcess, startNode, type InProcess, type NodeProcess } from './support/edgepull.ts'
import { readMessages } from './support/ndjson.ts'
import { testbed, type Testbed } from './support/testbed.ts'

let tb: Testbed
let ep: InProcess
/** Default limits, for archives bigger than ep's 8 MiB. */
let roomy: InProcess
let busyboxId: string
const work = tempDir()

const BODY_LIMIT = 8 << 20
const JSON_LIMIT = 4096

beforeAll(async () => {
  tb = await testbed('open')
  ep = await startInProcess({
    registries: { 'docker.io': { endpoint: tb.url } },
    config: { limits: { bodyBytes: '8MiB', jsonBytes: JSON_LIMIT } },
  })
  const pulled = await post('/images/create?fromImage=busybox&tag=latest')
  expect(await pulled.text()).toContain('Status: Downloaded newer image')
  busyboxId = ((await (await get('/images/busybox/json')).json()) as { Id: string }).Id
  roomy = await startInProcess({ registries: { 'docker.io': { endpoint: tb.url } } })
}, 120_000)
afterAll(async () => {
  await ep?.stop()
  await roomy?.stop()
  rmSync(work, { recursive: true, force: true })
})

const get = (path: string, init?: RequestInit) => fetch(`${ep.url}/v1.50${path}`, init)
const post = (path: string, init?: RequestInit) => get(path, { method: 'POST', ...init })

/** The route's error: the status, exactly application/json, `{"message"}` and nothing else. */
async function expectError(res: Response, status: number, message?: string | RegExp): Promise<string> {
  const body = await res.text()
  expect({ status: res.status, body }).toMatchObject({ status })
  expect(res.headers.get('content-type')).toBe('application/json')
  const json = JSON.parse(body)
  expect(Object.keys(json)).toEqual(['message'])
  expect(json.message.length).toBeGreaterThan(0)
  if (message !== undefined) expect(json.message).toMatch(message)
  return json.message
}

/** The server answers, and busybox, pulled first, is whole: its record and every blob. */
async function intact(): Promise<void> {
  const ping = await fetch(`${ep.url}/_ping`)
  expect(await ping.text()).toBe('OK')
  const inspect = await get('/images/busybox:latest/json')
  expect(((await inspect.json()) as { Id: string }).Id).toBe(busyboxId)
  const record = (await createImageStore(ep.driver).getImage(busyboxId as Digest))!
  const blobs = createBlobStore(ep.driver)
  for (const d of [record.id, record.manifest.digest, ...record.layers.map((l) => l.digest)]) {
    expect(await blobs.bytes(d, 64 << 20)).not.toBeNull() // bytes() re-hashes what it reads
  }
}

/** Load's errors travel in the stream (HTTP 200), as moby's do; exactly one error line. */
async function expectLoadError(res: Response, message: string | RegExp): Promise<void> {
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('application/json')
  const lines = await readMessages(res)
  expect(lines).toHaveLength(1)
  expect(lines[0]!.error).toBe(lines[0]!.errorDetail!.message)
  expect(lines[0]!.errorDetail!.message).toMatch(message)
}

type Entry = [name: string, type?: TarType, linkOrBody?: string | Uint8Array]

/** A tar from our writer's header encoder (which checks no names), with bodies. */
function tar(entries: Entry[]): Uint8Array {
  const parts: Uint8Array[] = []
  for (const [name, type = 'file', x] of entries) {
    const body = x instanceof Uint8Array ? x : new Uint8Array(0)
    const linkname = typeof x === 'string' ? x : ''
    parts.push(encodeHeader({ name, type, size: body.byteLength, mode: 0o644, mtime: 0, linkname }))
    parts.push(body, new Uint8Array(padded(body.byteLength) - body.byteLength))
  }
  parts.push(new Uint8Array(1024))
  return concatBytes(parts, parts.reduce((n, p) => n + p.byteLength, 0))
}

const text = (s: string) => new TextEncoder().encode(s)

/** A body streamed chunked, without Content-Length. */
function streamed(bytes: Uint8Array, chunk = 1 << 16): ReadableStream<Uint8Array> {
  let at = 0
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.byteLength) return c.close()
      c.enqueue(bytes.slice(at, at + chunk))
      at += chunk
    },
  })
}

type Body = Uint8Array | ReadableStream<Uint8Array>
const importBody = (body: Body, query = '', to = ep) =>
  fetch(`${to.url}/v1.50/images/create?fromSrc=-${query}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: body as BodyInit,
  })
const loadBody = (body: Body, to = ep) =>
  fetch(`${to.url}/v1.50/images/load`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-tar' },
    body: body as BodyInit,
  })

function gzipFile(name: string, bytes: Uint8Array): Uint8Array {
  writeFileSync(join(work, name), bytes)
  run(['gzip', '-9', '-f', join(work, name)])
  return fileBytes(join(work, `${name}.gz`))
}

describe('references, digests and tags on every route that takes one', () => {
  const bad = ['UPPER/Case', '%2e%2e', 'a'.repeat(300), 'busybox@sha256:short', 'busy%01box', 'busy%00box', 'bad%20name']

  test('pull, import, tag, push, save and commit refuse them with 400', async () => {
    for (const name of bad) {
      await expectError(await post(`/images/create?fromImage=${name}`), 400)
      await expectError(await importBody(tar([['f', 'file', text('x')]]), `&repo=${name}`), 400)
      await expectError(await post(`/images/busybox/tag?repo=${name}`), 400)
      await expectError(await get(`/images/get?names=${name}`), 400)
      await expectError(await post(`/commit?container=busybox&repo=${name}`), 400)
      if (name !== '%2e%2e') await expectError(await post(`/images/${name}/push`), 400)
      await intact()
    }
  }, 60_000)

  test('inspect, history, delete and commit sources: 400 when malformed, 404 when unknown', async () => {
    for (const name of bad) {
      for (const res of [
        await get(`/images/${name}/json`),
        await get(`/images/${name}/history`),
        await get(`/images/${name}`, { method: 'DELETE' }),
        await post(`/commit?container=${name}`),
      ]) {
        expect([400, 404]).toContain(res.status)
        await expectError(res, res.status)
      }
    }
    await intact()
  }, 60_000)

  test('tags and digests: control characters, short digests, 200-character tags', async () => {
    for (const tag of ['%00', 'sha256:zz', `sha256:${'0'.repeat(63)}`, 'x'.repeat(200), '-lead', 'a%0Ab']) {
      await expectError(await post(`/images/create?fromImage=busybox&tag=${tag}`), 400)
      await expectError(await post(`/images/busybox/tag?repo=other&tag=${tag}`), 400)
      await expectError(await post(`/images/busybox/push?tag=${tag}`), 400)
    }
    await intact()
  }, 60_000)
})

describe('filters, query values, JSON bodies and X-Registry-Auth', () => {
  test('filters that are not JSON or have the wrong shape are 400 invalid filter', async () => {
    const filters = ['notjson', '[1,2]', '"str"', '{"dangling":5}', '{"dangling":{"maybe":true}}', '{"nope":["x"]}', '{"label":[1]}', '{', '%00']
    for (const f of filters) {
      const q = `filters=${encodeURIComponent(f)}`
      await expectError(await get(`/images/json?${q}`), 400, /^invalid filter/)
      await expectError(await post(`/images/prune?${q}`), 400, /^invalid filter/)
      await expectError(await get(`/images/search?term=busybox&${q}`), 400)
    }
    await intact()
  })

  test('bad numbers are 400; bad booleans are Docker booleans; repeated values: the first counts', async () => {
    for (const limit of ['-5', '99999999999999999999', 'abc', '1e3']) {
      await expectError(await get(`/images/search?term=busybox&limit=${limit}`), 400, 'invalid limit specified')
    }
    // Anything but empty, 0, no, false and none is true, as moby's BoolValue reads it.
    const list = await get('/images/json?all=maybe&digests=-1&shared-size=%00')
    expect(list.status).toBe(200)
    expect(((await list.json()) as unknown[]).length).toBe(1)
    // FormValue: the first of repeated parameters (the second names nothing that exists).
    const twice = await post('/images/create?fromImage=busybox&fromImage=nonexistent&tag=latest&tag=nope')
    expect(await twice.text()).toContain('Image is up to date for busybox:latest')
    const search = await get('/images/search?term=busybox&term=zzz&limit=5&limit=-1')
    expect(search.status).toBe(200)
    await expectError(await post('/images/create?fromImage=busybox&platform=%00'), 400)
    await expectError(await get('/images/get?names=busybox&platform=notjson'), 400, /failed to parse platform/)
    await expectError(await get('/images/busybox?platforms=%7B%7D', { method: 'DELETE' }), 400)
    await intact()
  }, 60_000)

  test('commit JSON: malformed, wrong shapes, and beyond limits.jsonBytes (413, chunked too)', async () => {
    const commit = (body: BodyInit, type = 'application/json') =>
      post('/commit?container=busybox', { headers: { 'content-type': type }, body })
    await expectError(await commit('{not json'), 400, 'Malformed JSON in request body')
    await expectError(await commit('[1,2]'), 400, /expected object/)
    await expectError(await commit('{"Env":"x"}'), 400, /Env/)
    await expectError(await commit('{"Labels":{"a":1}}'), 400, /Labels/)
    const big = JSON.stringify({ Env: ['A='.padEnd(JSON_LIMIT, 'x')] })
    const tooLarge = /^request body too large: more than 4096 bytes \(limits\.jsonBytes\)$/
    await expectError(await commit(big), 413, tooLarge)
    await expectError(await commit(streamed(text(big), 1000)), 413, tooLarge)
    const fine = await commit(JSON.stringify({ Env: ['A=1'] }))
    expect(fine.status).toBe(201)
    await get(`/images/${((await fine.json()) as { Id: string }).Id}`, { method: 'DELETE' })
    await intact()
  })

  test('X-Registry-Auth that is not base64 or not JSON is ignored, as moby ignores it', async () => {
    for (const auth of ['!!!not-base64', btoa('{not json'), btoa('[]'), btoa('null'), 'A'.repeat(8000)]) {
      const res = await post('/images/create?fromImage=busybox&tag=latest', { headers: { 'x-registry-auth': auth } })
      expect(res.status).toBe(200)
      expect(await res.text()).toContain('Image is up to date')
      const search = await get('/images/search?term=busybox', { headers: { 'x-registry-auth': auth } })
      expect(search.status).toBe(200)
    }
    await intact()
  })
})

describe('bodies beyond limits.bodyBytes', () => {
  const big = new Uint8Array(BODY_LIMIT + 1)
  const message = /^request body too large: more than 8388608 bytes \(limits\.bodyBytes\)$/

  test('import: 413 by Content-Length before reading, and while streaming a chunked body', async () => {
    await expectError(await importBody(big), 413, message)
    const bigTar = tar([['f', 'file', new Uint8Array(BODY_LIMIT)]])
    await expectError(await importBody(streamed(bigTar)), 413, message)
    await intact()
  })

  test('load: 413 by Content-Length; a chunked body fails in the stream, leaving nothing', async () => {
    const keys = await storeKeys()
    await expectError(await loadBody(big), 413, message)
    await expectLoadError(await loadBody(streamed(tar([['f', 'file', new Uint8Array(BODY_LIMIT)]]))), message)
    expect(await storeKeys()).toEqual(keys)
    await intact()
  })
})

async function storeKeys(of = ep): Promise<string[]> {
  const out: string[] = []
  for await (const k of of.driver.list('')) out.push(k)
  return out.sort()
}

describe('gzip and tar bombs', () => {
  test('a gzip body unpacking beyond limits.bodyBytes: import 413, load refused in the stream', async () => {
    const zeros = Array.from({ length: 16 }, (_, i) => [`zeros${i}`, 'file', new Uint8Array(1 << 20)] as Entry)
    const bomb = gzipFile('zeros-16m.tar', tar(zeros))
    expect(bomb.byteLength).toBeLessThan(100_000)
    const message = 'gzip data unpacks to more than 8388608 bytes (limits.bodyBytes)'
    await expectError(await importBody(bomb), 413, message)
    const keys = await storeKeys()
    await expectLoadError(await loadBody(bomb), message)
    expect(await storeKeys()).toEqual(keys)
    await intact()
  })

  test('an entry claiming more than the body may hold is refused at its header', async () => {
    const header = encodeHeader({ name: 'huge', type: 'file', size: 2 ** 40, mode: 0o644, mtime: 0, linkname: '' })
    const claim = /"huge" claims 1099511627776 bytes, more than the body may hold \(limits\.bodyBytes\)/
    await expectError(await importBody(header), 413, claim)
    await expectLoadError(await loadBody(header), claim)
    await intact()
  })

  test('load: too many entries, too deep, too long', async () => {
    const many = tar(Array.from({ length: 100_001 }, (_, i) => [`d/${i}`, 'directory'] as Entry))
    await expectLoadError(await loadBody(gzipFile('many.tar', many), roomy), 'invalid archive: more than 100000 entries')
    const deep = `${'d/'.repeat(70)}f`
    await expectLoadError(await loadBody(tar([[deep, 'file', text('x')]])), /is more than 64 levels deep$/)
    const long = `${'x'.repeat(250)}/`.repeat(17)
    await expectLoadError(await loadBody(tar([[long, 'file', text('x')]])), /file name too long$/)
    await intact()
  }, 60_000)

  test('import: many tiny entries are a root file system like any other', async () => {
    const many = tar(Array.from({ length: 20_000 }, (_, i) => [`f/${i}`, 'file', text('x')] as Entry))
    const res = await importBody(many, '', roomy)
    expect(res.status).toBe(200)
    const id = (await readMessages(res)).at(-1)!.status!
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/)
  }, 60_000)

  test('past 64 MiB, a gzip body may unpack to at most limits.gzipRatio times its size', async () => {
    const bomb = join(work, 'zeros-200m.tar.gz')
    // One 200 MiB entry of zeros: tar's header, then what gzip makes of zeros (~1000:1).
    const header = join(work, 'header')
    writeFileSync(header, encodeHeader({ name: 'zeros', type: 'file', size: 200 << 20, mode: 0o644, mtime: 0, linkname: '' }))
    run(['sh', '-c', `(cat ${header}; head -c ${(200 << 20) + 1024} /dev/zero) | gzip -9 > ${bomb}`])
    const message = 'gzip data unpacks to more than 100 times its size (limits.gzipRatio)'
    const before = await storeKeys(roomy)
    await expectError(await importBody(fileBytes(bomb), '', roomy), 413, message)
    await expectLoadError(await loadBody(fileBytes(bomb), roomy), message)
    expect(await storeKeys(roomy)).toEqual(before)
  }, 60_000)
})

describe('path traversal and link escapes', () => {
  const escapes: [string, Entry, string][] = [
    ['../', ['../evil', 'file', text('x')], '"../evil" is outside of the archive'],
    ['a/../../', ['a/../../evil', 'file', text('x')], '"a/../../evil" is outside of the archive'],
    ['a symlink climbing out', ['a/l', 'symlink', '../../etc/passwd'], 'invalid symlink "a/l" -> "../../etc/passwd"'],
    ['a hardlink climbing out', ['h', 'hardlink', '../etc/passwd'], 'invalid hardlink "h" -> "../etc/passwd"'],
  ]

  for (const [what, entry, message] of escapes) {
    test(`import refuses ${what} (400); load refuses it in the stream`, async () => {
      const keys = await storeKeys()
      await expectError(await importBody(tar([['ok', 'file', text('x')], entry])), 400, message)
      await expectLoadError(await loadBody(tar([['ok', 'file', text('x')], entry])), message)
      expect(await storeKeys()).toEqual(keys)
      await intact()
    })
  }

  test('load: a link through a symlinked directory is judged where it really is', async () => {
    // `s` is the root, so `s/evil -> ../x` is `evil -> ../x`: outside, though s/../x is not.
    const archive = tar([['s', 'symlink', '.'], ['s/evil', 'symlink', '../x']])
    await expectLoadError(await loadBody(archive), 'invalid archive: invalid symlink "s/evil" -> "../x"')
    const absolute = tar([['evil', 'symlink', '/etc/passwd']])
    await expectLoadError(await loadBody(absolute), 'invalid archive: invalid symlink "evil" -> "/etc/passwd"')
    await intact()
  })

  test('import: absolute names and links are a layer\'s own root, as moby reads them', async () => {
    const rootfs = tar([['/bin/busybox', 'file', text('#!')], ['bin/sh', 'symlink', '/bin/busybox']])
    const res = await importBody(rootfs)
    expect(res.status).toBe(200)
    const id = (await readMessages(res)).at(-1)!.status!
    await get(`/images/${id}`, { method: 'DELETE' })
    await intact()
  })
})

describe('manifests past 4 MiB in a load archive', () => {
  test('an OCI layout whose manifest is larger than 4 MiB is refused, storing nothing', async () => {
    const manifest = text(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2 },
      layers: [],
      annotations: { pad: 'x'.repeat(4 << 20) },
    }))
    const hex = new Bun.CryptoHasher('sha256').update(manifest).digest('hex')
    const index = JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${hex}`, size: manifest.byteLength }],
    })
    const archive = tar([['oci-layout', 'file', text('{"imageLayoutVersion":"1.0.0"}')], ['index.json', 'file', text(index)], [`blobs/sha256/${hex}`, 'file', manifest]])
    const keys = await storeKeys()
    await expectLoadError(await loadBody(gzipFile('huge-manifest.tar', archive)), `invalid archive: blobs/sha256/${hex}: manifest larger than 4194304 bytes`)
    expect(await storeKeys()).toEqual(keys)
    await intact()
  })
})

describe('oversized request headers on the real Node entry', () => {
  let node: NodeProcess
  beforeAll(async () => {
    node = await startNode({ 'docker.io': { endpoint: tb.url } })
  }, 60_000)
  afterAll(() => node?.stop())

  test('431 (or 400) for a header past the limit, and the server keeps serving', async () => {
    for (const [name, value] of [['x-registry-auth', 'A'.repeat(80_000)], ['x-junk', 'j'.repeat(20_000)]] as const) {
      const res = await fetch(`${node.url}/v1.50/images/json`, { headers: { [name]: value } }).catch((e: Error) => e)
      if (res instanceof Error) throw res
      expect([400, 431]).toContain(res.status)
      await res.body?.cancel()
      expect(await (await fetch(`${node.url}/_ping`)).text()).toBe('OK')
    }
    const many: Record<string, string> = {}
    for (let i = 0; i < 400; i++) many[`x-h${i}`] = 'v'.repeat(100)
    const res = await fetch(`${node.url}/_ping`, { headers: many })
    expect([400, 431]).toContain(res.status)
    expect((await fetch(`${node.url}/images/json`)).status).toBe(200)
  })
})
