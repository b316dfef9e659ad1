/**
 * POST /images/{name}/push against the real upstream registry, open and token mode: Docker's
 * messages, what skopeo reads back (same digests), `Layer already exists`, cross-repository
 * mounts, tag-less pushes, RepoDigests, and the errors dockerd puts in the stream.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256, shortId, type Digest } from '../src/oci/digest.ts'
import { createImageStore, type ImageRecord } from '../src/storage/images.ts'
import { startInProcess, type InProcess } from './support/edgepull.ts'
import { lines, readMessages, type Message } from './support/ndjson.ts'
import { PASSWORD, testbed, USER, type Testbed } from './support/testbed.ts'

let open: Testbed
let token: Testbed
let ep: InProcess
let work: string

const auth = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
const run = crypto.randomUUID().slice(0, 8)

beforeAll(async () => {
  open = await testbed('open')
  token = await testbed('token')
  ep = await startInProcess({ registries: { [open.host]: {}, [token.host]: {} } })
  work = mkdtempSync(join(tmpdir(), 'edgepull-push-'))
}, 120_000)
afterAll(async () => {
  await ep?.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

/** A fresh one-file tar (random content, so no registry has its layer yet). */
function freshTar(name: string): Uint8Array {
  const dir = join(work, name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'payload'), crypto.getRandomValues(new Uint8Array(40_000)))
  execFileSync('tar', ['-cf', `${dir}.tar`, '-C', dir, '.'])
  return readFileSync(`${dir}.tar`)
}

async function importAs(repo: string, tar = freshTar(crypto.randomUUID())): Promise<Digest> {
  const res = await fetch(`${ep.url}/v1.50/images/create?fromSrc=-&repo=${encodeURIComponent(repo)}`, {
    method: 'POST',
    body: tar as BodyInit,
  })
  expect(res.status).toBe(200)
  return (await readMessages(res))[0]!.status as Digest
}

async function commitAs(source: string, repo: string, tag: string): Promise<Digest> {
  const q = new URLSearchParams({ container: source, repo, tag })
  const res = await fetch(`${ep.url}/v1.50/commit?${q}`, { method: 'POST' })
  expect(res.status).toBe(201)
  return ((await res.json()) as { Id: Digest }).Id
}

function push(name: string, tag?: string, registryAuth = 'e30=') {
  const query = tag === undefined ? '' : `?tag=${tag}`
  return fetch(`${ep.url}/v1.50/images/${name}/push${query}`, {
    method: 'POST',
    headers: { 'x-registry-auth': registryAuth },
  })
}

const record = async (id: Digest): Promise<ImageRecord> => (await createImageStore(ep.driver).getImage(id))!
const skopeo = (...args: string[]) => execFileSync('skopeo', args, { encoding: 'utf8' })
const auxOf = (ms: Message[]) => ms.filter((m) => m.aux !== undefined).map((m) => m.aux)

describe('push to the open registry', () => {
  const repo = () => `${open.host}/push/imported-${run}`

  test('an imported image: Docker lines, aux, RepoDigests; skopeo reads the same digests', async () => {
    const id = await importAs(`${repo()}:v1`)
    const image = await record(id)
    const layerId = shortId(image.layers[0]!.diffId)
    const res = await push(repo(), 'v1')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    const ms = await readMessages(res)
    const digest = image.manifest.digest
    expect(lines(ms.filter((m) => m.aux === undefined))).toEqual([
      `The push refers to repository [${repo()}]`,
      `${layerId}: Preparing`,
      `${layerId}: Pushed`,
      `v1: digest: ${digest} size: ${image.manifest.size}`,
    ])
    expect(auxOf(ms)).toEqual([{ Tag: 'v1', Digest: digest, Size: image.manifest.size }])
    expect(ms.at(-1)).toEqual({
      progressDetail: {},
      aux: { Tag: 'v1', Digest: digest, Size: image.manifest.size },
    })
    const pushing = ms.filter((m) => m.status === 'Pushing')
    const size = image.layers[0]!.size
    expect(pushing.at(-1)?.progressDetail).toEqual({ current: size, total: size })
    // per-layer lines carry progressDetail, summary lines never do
    for (const m of ms.filter((m) => m.aux === undefined)) {
      expect('progressDetail' in m).toBe(m.id !== undefined)
    }
    expect((await record(id)).repoDigests).toEqual([`${repo()}@${digest}`])

    const inspect = JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${repo()}:v1`))
    expect(inspect.Digest).toBe(digest)
    expect(inspect.Layers).toEqual([image.layers[0]!.digest])
    const out = join(work, `copy-${run}`)
    skopeo('copy', '--quiet', '--src-tls-verify=false', `docker://${repo()}:v1`, `dir:${out}`)
    expect(sha256(readFileSync(join(out, 'manifest.json')))).toBe(digest)
    const layerFile = readFileSync(join(out, image.layers[0]!.digest.slice(7)))
    expect(sha256(layerFile)).toBe(image.layers[0]!.digest)
    expect(sha256(readFileSync(join(out, id.slice(7))))).toBe(id)
  }, 60_000)

  test('pushing again: Layer already exists, same digest', async () => {
    const ms = await readMessages(await push(repo(), 'v1'))
    const ls = lines(ms.filter((m) => m.aux === undefined))
    expect(ls[1]).toEndWith(': Preparing')
    expect(ls[2]).toEndWith(': Layer already exists')
    expect(ls).toHaveLength(4)
  }, 30_000)

  test('a commit pushed to another repository mounts the layer from the first', async () => {
    const target = `${open.host}/push/committed-${run}`
    const id = await commitAs(`${repo()}:v1`, target, 'c1')
    const image = await record(id)
    const ms = await readMessages(await push(target, 'c1'))
    expect(lines(ms)).toContain(`${shortId(image.layers[0]!.diffId)}: Mounted from push/imported-${run}`)
    expect(auxOf(ms)).toEqual([{ Tag: 'c1', Digest: image.manifest.digest, Size: image.manifest.size }])
    const inspect = JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${target}:c1`))
    expect(inspect.Digest).toBe(image.manifest.digest)
  }, 60_000)

  test('a pulled image mounts from the repository it came from; the stored manifest is what lands', async () => {
    const pulled = await fetch(`${ep.url}/v1.50/images/create?fromImage=${open.host}/library/layered&tag=v1`, {
      method: 'POST',
    })
    expect((await readMessages(pulled)).filter((m) => m.errorDetail)).toEqual([])
    const target = `${open.host}/push/layered-${run}`
    const id = await commitAs(`${open.host}/library/layered:v1`, target, 'v1')
    const image = await record(id)
    const ms = await readMessages(await push(target, 'v1'))
    const ls = lines(ms)
    const ids = [...image.layers].reverse().map((l) => shortId(l.diffId))
    expect(ls.filter((l) => l.endsWith(': Preparing'))).toEqual(ids.map((i) => `${i}: Preparing`))
    for (const i of ids) expect(ls).toContain(`${i}: Mounted from library/layered`)
    expect(JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${target}:v1`)).Digest).toBe(
      image.manifest.digest
    )
  }, 60_000)

  test('more layers than upload slots: the bottom ones wait, all are named by DiffID', async () => {
    const pulled = await fetch(`${ep.url}/v1.50/images/create?fromImage=${open.host}/library/many&tag=latest`, {
      method: 'POST',
    })
    expect((await readMessages(pulled)).filter((m) => m.errorDetail)).toEqual([])
    const target = `${open.host}/push/many-${run}`
    const image = await record(await commitAs(`${open.host}/library/many:latest`, target, 'v1'))
    expect(image.layers.length).toBeGreaterThan(5)
    const ls = lines(await readMessages(await push(target, 'v1')))
    const ids = [...image.layers].reverse().map((l) => shortId(l.diffId))
    expect(ls.filter((l) => l.endsWith(': Waiting'))).toEqual(ids.slice(5).map((i) => `${i}: Waiting`))
    // from library/many, or another seeded repository sharing the layer
    for (const i of ids) expect(ls.some((l) => l.startsWith(`${i}: Mounted from library/`))).toBe(true)
    expect(ls).toContain(`v1: digest: ${image.manifest.digest} size: ${image.manifest.size}`)
  }, 60_000)

  test('a platform the image does not have (API 1.46+) fails in the stream', async () => {
    const platform = encodeURIComponent('{"os":"linux","architecture":"arm64"}')
    const res = await fetch(`${ep.url}/v1.50/images/${repo()}/push?tag=v1&platform=${platform}`, {
      method: 'POST',
    })
    expect(res.status).toBe(200)
    const last = (await readMessages(res)).at(-1)!
    expect(last.errorDetail?.message).toBe(`image ${repo()}:v1 is linux/amd64, not linux/arm64`)
  })

  test('without a tag every tag of the repository is pushed, in order', async () => {
    const many = `${open.host}/push/tags-${run}`
    const a = await importAs(`${many}:a`)
    const b = await importAs(`${many}:b`)
    const ms = await readMessages(await push(many))
    const [ra, rb] = [await record(a), await record(b)]
    expect(lines(ms).filter((l) => l.includes(': digest: '))).toEqual([
      `a: digest: ${ra.manifest.digest} size: ${ra.manifest.size}`,
      `b: digest: ${rb.manifest.digest} size: ${rb.manifest.size}`,
    ])
    expect(auxOf(ms).map((x: any) => x.Tag)).toEqual(['a', 'b'])
  }, 60_000)

  test('errors after the first line arrive in the stream, in Docker words', async () => {
    const none = await push(`${open.host}/push/none-${run}`, 'latest')
    expect(none.status).toBe(200)
    expect(lines(await readMessages(none))).toEqual([
      `The push refers to repository [${open.host}/push/none-${run}]`,
      `ERROR An image does not exist locally with the tag: ${open.host}/push/none-${run}`,
    ])
    const missingTag = await readMessages(await push(repo(), 'v9'))
    expect(missingTag.at(-1)).toEqual({
      errorDetail: { message: `tag does not exist: ${repo()}:v9` },
      error: `tag does not exist: ${repo()}:v9`,
    })
  })

  test('unlisted registries and bad names are HTTP errors', async () => {
    const refused = await push('registry.example.com/x/y', 'latest')
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as any).message).toContain('registry.example.com is not allowed')
    const bad = await push('docker.io/library/Upper', 'latest')
    expect(bad.status).toBe(400)
    const badTag = await push(repo(), 'bad:tag')
    expect(badTag.status).toBe(400)
  })
})

describe('push to docker.io', () => {
  test('goes to the configured endpoint, never to a mirror', async () => {
    // the token registry as a mirror: an anonymous push there would be denied
    const hub = await startInProcess({
      registries: { 'docker.io': { endpoint: open.url, mirrors: [token.url] } },
    })
    try {
      const res = await fetch(`${hub.url}/v1.50/images/create?fromSrc=-&repo=pushtest/hub-${run}:v1`, {
        method: 'POST',
        body: freshTar('hub') as BodyInit,
      })
      const id = (await readMessages(res))[0]!.status as Digest
      const ms = await readMessages(
        await fetch(`${hub.url}/v1.50/images/docker.io/pushtest/hub-${run}/push?tag=v1`, {
          method: 'POST',
          headers: { 'x-registry-auth': 'e30=' },
        })
      )
      expect(ms[0]).toEqual({ status: `The push refers to repository [docker.io/pushtest/hub-${run}]` })
      expect(ms.filter((m) => m.errorDetail)).toEqual([])
      const image = (await createImageStore(hub.driver).getImage(id))!
      const inspect = JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${open.host}/pushtest/hub-${run}:v1`))
      expect(inspect.Digest).toBe(image.manifest.digest)
      expect(image.repoDigests).toEqual([`docker.io/pushtest/hub-${run}@${image.manifest.digest}`])
    } finally {
      await hub.stop()
    }
  }, 60_000)
})

describe('push to the token registry', () => {
  const repo = `alice/imported-${run}`
  const alice = () => auth({ username: USER, password: PASSWORD, serveraddress: token.host })

  test('anonymous: denied in the stream; alice: pushed, and skopeo reads it with her credentials', async () => {
    const name = `${token.host}/${repo}`
    const id = await importAs(`${name}:v1`)
    const denied = await readMessages(await push(name, 'v1'))
    expect(denied.at(-1)?.errorDetail?.message).toBe('denied: requested access to the resource is denied')

    const ms = await readMessages(await push(name, 'v1', alice()))
    expect(ms.filter((m) => m.errorDetail)).toEqual([])
    const image = await record(id)
    expect(auxOf(ms)).toEqual([{ Tag: 'v1', Digest: image.manifest.digest, Size: image.manifest.size }])
    const creds = `--creds=${USER}:${PASSWORD}`
    const inspect = JSON.parse(skopeo('inspect', '--tls-verify=false', creds, `docker://${name}:v1`))
    expect(inspect.Digest).toBe(image.manifest.digest)
  }, 60_000)

  test('a mount across repositories works with a token (pull scope on the source)', async () => {
    const target = `${token.host}/bob/committed-${run}`
    const id = await commitAs(`${token.host}/${repo}:v1`, target, 'v1')
    const image = await record(id)
    const ms = await readMessages(await push(target, 'v1', alice()))
    expect(lines(ms)).toContain(`${shortId(image.layers[0]!.diffId)}: Mounted from ${repo}`)
    expect(auxOf(ms)).toHaveLength(1)
  }, 60_000)
})
