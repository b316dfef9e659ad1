/**
 * skopeo (containers/image, the library podman and CRI-O use) pulling through the mirror as
 * users do: short names, OCI and Docker media types, an index with --all, open and token
 * upstreams, the path-prefix form. What lands on disk must be the upstream's bytes exactly.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256 } from '../src/oci/digest.ts'
import { countingProxy, type CountingProxy } from './support/counting-proxy.ts'
import { startInProcess, startNode, type Running } from './support/edgepull.ts'
import { anonymousToken, testbed, type Testbed } from './support/testbed.ts'
import { MANIFEST_ACCEPT as ACCEPT } from '../src/oci/media-types.ts'

const work = mkdtempSync(join(tmpdir(), 'edgepull-skopeo-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))
let dirs = 0

/** `skopeo copy docker://<mirror>/<name> <dest>`; resolves with the destination directory. */
function skopeoCopy(mirror: Running, name: string, extra: string[] = [], oci = false) {
  const dir = join(work, `out-${++dirs}`)
  const dest = oci ? `oci:${dir}:latest` : `dir:${dir}`
  const args = ['copy', '--quiet', '--src-tls-verify=false', '--src-no-creds', ...extra]
  args.push(`docker://${mirror.host}/${name}`, dest)
  return new Promise<string>((resolve, reject) =>
    execFile('skopeo', args, { timeout: 60_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`skopeo ${args.join(' ')}: ${stderr || err.message}`)) : resolve(dir)
    )
  )
}

/** The manifest as the upstream serves it, with `auth` if given. */
async function upstreamManifest(tb: Testbed, repo: string, auth?: string): Promise<Uint8Array> {
  const headers: Record<string, string> = { accept: ACCEPT }
  if (auth) headers.authorization = auth
  const res = await fetch(`${tb.url}/v2/${repo}/manifests/latest`, { headers })
  expect(res.status).toBe(200)
  return new Uint8Array(await res.arrayBuffer())
}

const manifestOnDisk = (dir: string): Uint8Array =>
  new Uint8Array(readFileSync(join(dir, 'manifest.json')))

describe('skopeo through the mirror, open upstream', () => {
  let tb: Testbed
  let proxy: CountingProxy
  let mirror: Running
  beforeAll(async () => {
    tb = await testbed('open')
    proxy = await countingProxy(tb.url)
    const registries = { 'docker.io': { endpoint: proxy.url } }
    mirror = await startInProcess({ registries, store: 'fs' })
  }, 120_000)
  afterAll(async () => {
    await mirror?.stop()
    await proxy?.stop()
  })

  test('copies busybox by its short name with the exact manifest bytes', async () => {
    const dir = await skopeoCopy(mirror, 'busybox')
    expect(manifestOnDisk(dir)).toEqual(await upstreamManifest(tb, 'library/busybox'))
  }, 60_000)

  test('Docker media types and an index (--all) arrive unchanged', async () => {
    const v2s2 = await skopeoCopy(mirror, 'busybox-v2s2')
    expect(manifestOnDisk(v2s2)).toEqual(await upstreamManifest(tb, 'library/busybox-v2s2'))
    const index = await skopeoCopy(mirror, 'library/multiarch', ['--all'])
    expect(manifestOnDisk(index)).toEqual(await upstreamManifest(tb, 'library/multiarch'))
  }, 60_000)

  test('into an OCI layout, as the README shows; a second copy comes from the cache', async () => {
    const dir = await skopeoCopy(mirror, 'layered', [], true)
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'))
    const upstream = await upstreamManifest(tb, 'library/layered')
    expect(index.manifests[0].digest).toBe(sha256(upstream))
    const blobGets = () => proxy.seen.filter((s) => s.startsWith('GET ') && s.includes('/blobs/'))
    const before = blobGets().length
    await skopeoCopy(mirror, 'layered', [], true)
    expect(blobGets().length).toBe(before) // every blob was a hit
  }, 60_000)
})

describe('skopeo through the mirror, token upstream', () => {
  let tt: Testbed
  let mirror: Running
  beforeAll(async () => {
    tt = await testbed('token')
    mirror = await startInProcess({
      registries: { 'docker.io': { endpoint: tt.url }, 'registry.example': { endpoint: tt.url } },
    })
  }, 120_000)
  afterAll(() => mirror?.stop())

  test('short names resolve to docker.io, which the mirror reaches with a token', async () => {
    const dir = await skopeoCopy(mirror, 'busybox')
    const token = `Bearer ${await anonymousToken(tt, 'library/busybox')}`
    expect(manifestOnDisk(dir)).toEqual(await upstreamManifest(tt, 'library/busybox', token))
  }, 60_000)

  test('the path-prefix form reaches another configured registry', async () => {
    const dir = await skopeoCopy(mirror, 'registry.example/library/layered')
    const token = `Bearer ${await anonymousToken(tt, 'library/layered')}`
    expect(manifestOnDisk(dir)).toEqual(await upstreamManifest(tt, 'library/layered', token))
  }, 60_000)
})

describe('skopeo through the Node entry (npm start)', () => {
  let tb: Testbed
  let node: Running
  beforeAll(async () => {
    tb = await testbed('open')
    node = await startNode({ 'docker.io': { endpoint: tb.url } })
  }, 120_000)
  afterAll(() => node?.stop())

  test('copies with exact bytes; blobs carry their length, HEAD included, cold and warm', async () => {
    const dir = await skopeoCopy(node, 'layered')
    expect(manifestOnDisk(dir)).toEqual(await upstreamManifest(tb, 'library/layered'))
    const manifest = JSON.parse(new TextDecoder().decode(manifestOnDisk(dir)))
    const { digest, size } = manifest.layers[0]
    for (const method of ['HEAD', 'GET']) {
      const res = await fetch(`${node.url}/v2/layered/blobs/${digest}`, { method })
      expect(res.headers.get('content-length')).toBe(String(size))
      expect(res.headers.get('docker-content-digest')).toBe(digest)
      await res.arrayBuffer()
    }
    const big = (await (await fetch(`${tb.url}/v2/library/big/manifests/latest`, {
      headers: { accept: ACCEPT },
    })).json()) as { layers: Array<{ digest: string; size: number }> }
    const cold = await fetch(`${node.url}/v2/big/blobs/${big.layers[0]!.digest}`)
    expect(cold.headers.get('content-length')).toBe(String(big.layers[0]!.size))
    expect(sha256(new Uint8Array(await cold.arrayBuffer())) as string).toBe(big.layers[0]!.digest)
  }, 60_000)
})
