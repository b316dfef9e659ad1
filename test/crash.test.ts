/**
 * Crash consistency of the real Node entry: a mirror fill, a `docker pull`, a `docker load`
 * and a `docker import` are each cut by SIGKILL half-way, and the server is started again on
 * the same data directory. Then nothing partial is visible (no blob, image or tag; no file
 * under the store but whole, verified ones), the dead process's temp files are gone at once,
 * `npm run verify` finds the store clean, and the same operation completes. Upstream bytes
 * come through a pacing proxy in front of the real registry, so each cut lands mid-transfer.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256, type Digest } from '../src/oci/digest.ts'
import { blobKey } from '../src/storage/keys.ts'
import { run, tempDir } from './support/archive.ts'
import { bundledEntry } from './support/build.ts'
import { countingProxy, type CountingProxy } from './support/counting-proxy.ts'
import { docker, dockerConfig } from './support/docker-cli.ts'
import { startNode, type NodeProcess } from './support/edgepull.ts'
import { eventually } from './support/eventually.ts'
import { testbed, type Testbed } from './support/testbed.ts'

const MiB = 1 << 20
const ADMIN = 'crash-test-admin-token'
const work = tempDir()
let tb: Testbed
let proxy: CountingProxy
let big: { digest: Digest; size: number }
const running = new Set<NodeProcess>()

beforeAll(async () => {
  tb = await testbed('open')
  proxy = await countingProxy(tb.url)
  const res = await fetch(`${tb.url}/v2/library/big/manifests/latest`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  })
  big = (await res.json()).layers[0]
}, 120_000)
afterAll(async () => {
  // Killed, not stopped: a request whose body never ends would hold a graceful stop forever.
  for (const n of running) await crash(n)
  await proxy?.stop()
})

/** The Node entry over `data`, with docker.io behind the pacing proxy. */
async function start(data: string): Promise<NodeProcess> {
  const n = await startNode(
    { 'docker.io': { endpoint: proxy.url } },
    { config: { adminToken: ADMIN }, env: { EDGEPULL_DATA: data } }
  )
  running.add(n)
  return n
}

/** kill -9, and wait for the process to be gone. */
async function crash(n: NodeProcess): Promise<void> {
  process.kill(n.pid, 'SIGKILL')
  await n.stop()
  running.delete(n)
}

/** Files under `dir`, as paths relative to it, with their sizes. */
function filesUnder(dir: string): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = []
  if (!existsSync(dir)) return out
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue
    const path = join(e.parentPath, e.name)
    out.push({ path: path.slice(dir.length + 1), size: statSync(path).size })
  }
  return out
}

const temps = (data: string) => filesUnder(join(data, '.tmp'))

/** Resolves once some temp file holds `bytes`: the operation is under way, not done. */
const midway = (data: string, bytes = 8 * MiB) =>
  eventually(async () => temps(data).some((f) => f.size >= bytes), 60_000)

/** `npm run verify`'s program over `data`. */
function verifyCli(data: string, ...args: string[]): { code: number; out: string } {
  const { EDGEPULL_CONFIG: _, ...env } = process.env
  const r = spawnSync('node', [bundledEntry('verify'), ...args], {
    env: { ...env, EDGEPULL_DATA: data },
    encoding: 'utf8',
  })
  return { code: r.status ?? -1, out: r.stdout + r.stderr }
}

/** Every blob file under the store holds the bytes of its name (verify says so too). */
function blobsAreWhole(data: string): void {
  for (const f of filesUnder(join(data, 'blobs'))) {
    expect(sha256(readFileSync(join(data, 'blobs', f.path)))).toBe(`sha256:${f.path.split('/').at(-1)}`)
  }
}

/** After a restart over a crashed store: no temps, verify clean, no partial image. */
async function afterRestart(n: NodeProcess, data: string): Promise<void> {
  expect(temps(data)).toEqual([])
  blobsAreWhole(data)
  const v = verifyCli(data)
  expect(v.out).toContain('fs store clean')
  expect(v.code).toBe(0)
  expect(await (await fetch(`${n.url}/images/json`)).json()).toEqual([])
}

/** Runs `docker args` with `file` fed to its stdin at `bytesPerSecond`, until it ends or fails. */
function dockerFed(host: string, args: string[], file: string, bytesPerSecond: number) {
  const env = { ...process.env, DOCKER_HOST: `tcp://${host}`, DOCKER_CONFIG: dockerConfig(), DOCKER_CLI_HINTS: 'false' }
  const child = spawn('docker', args, { env, stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  child.stdin!.on('error', () => {}) // EPIPE once the server, then the CLI, died
  const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? -1)))
  void (async () => {
    const bytes = readFileSync(file)
    for (let at = 0; at < bytes.byteLength && child.exitCode === null; at += MiB) {
      child.stdin!.write(bytes.subarray(at, at + MiB))
      await Bun.sleep((MiB / bytesPerSecond) * 1000)
    }
    child.stdin!.end()
  })()
  return exited.then((code) => ({ code, stderr }))
}

const storeDir = (name: string) => {
  const d = join(work, name)
  mkdirSync(d)
  return d
}

describe('kill -9 mid-way, then a restart over the same store', () => {
  test('a mirror fill: no blob, the temp file gone, verify clean, and the blob served whole', async () => {
    const data = storeDir('fill')
    let n = await start(data)
    proxy.bytesPerSecond = 8 * MiB
    const path = `/v2/big/blobs/${big.digest}`
    const reading = fetch(n.url + path).then((r) => r.arrayBuffer()).catch(() => null)
    await midway(data)
    await crash(n)
    expect(await reading).toBeNull() // the client saw the connection die, not a short blob
    expect(filesUnder(data).some((f) => f.path === blobKey(big.digest))).toBe(false)
    // Before the restart the verifier sees the dead process's temp file: a stray.
    const before = verifyCli(data)
    expect(before.code).toBe(1)
    expect(before.out).toMatch(/^stray-temp \S+: \d+ bytes/m)

    proxy.bytesPerSecond = 0
    n = await start(data)
    expect(temps(data)).toEqual([])
    expect((await fetch(n.url + path, { method: 'HEAD' })).headers.get('content-length')).toBe(String(big.size))
    const admin = (q = '', token = ADMIN) =>
      fetch(`${n.url}/admin/verify${q}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    expect((await admin('', 'wrong')).status).toBe(401)
    expect((await admin('?repair=maybe')).status).toBe(400)
    const report = await (await admin()).json()
    expect(report).toMatchObject({ driver: 'fs', clean: true, problems: [] })

    const bytes = new Uint8Array(await (await fetch(n.url + path)).arrayBuffer())
    expect(bytes.byteLength).toBe(big.size)
    expect(sha256(bytes)).toBe(big.digest)
    await eventually(async () => (await (await admin()).json()).checked.blobs === 1)
    blobsAreWhole(data)
    await crash(n) // a kill with nothing in flight loses nothing either
  }, 120_000)

  test('docker pull: no image, verify clean, the pull completes; a corrupted layer is repaired and fetched again', async () => {
    const data = storeDir('pull')
    let n = await start(data)
    proxy.bytesPerSecond = 8 * MiB
    const pulling = docker(n.host, ['pull', 'big'])
    await midway(data)
    await crash(n)
    expect((await pulling).code).not.toBe(0)

    proxy.bytesPerSecond = 0
    n = await start(data)
    await afterRestart(n, data)
    expect((await fetch(`${n.url}/images/big/json`)).status).toBe(404)
    const pulled = await docker(n.host, ['pull', 'big'])
    expect(pulled.stderr).toBe('')
    expect(pulled.stdout).toContain('Status: Downloaded newer image for big:latest')
    expect((await docker(n.host, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout).toBe('big:latest\n')
    expect(verifyCli(data).code).toBe(0)
    expect((await docker(n.host, ['save', '-o', join(work, 'big.tar'), 'big'])).code).toBe(0)

    // A flipped byte on disk: /admin/verify finds it, repairs, and the next pull fetches again.
    const file = join(data, blobKey(big.digest))
    const bytes = readFileSync(file)
    bytes[12345]! ^= 0x20
    writeFileSync(file, bytes)
    const repaired = await (
      await fetch(`${n.url}/admin/verify?repair=true`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}` },
      })
    ).json()
    expect(repaired.clean).toBe(true)
    const kinds = repaired.problems.map((p: { kind: string }) => p.kind)
    expect(kinds).toEqual(expect.arrayContaining(['corrupt-blob', 'dangling-image', 'dangling-tag']))
    expect(await (await fetch(`${n.url}/images/json`)).json()).toEqual([])
    const again = await docker(n.host, ['pull', 'big'])
    expect(again.stdout).toContain('Status: Downloaded newer image for big:latest')
    blobsAreWhole(data)
    expect(verifyCli(data).code).toBe(0)
  }, 180_000)

  test('docker load: no image, verify clean, the load completes', async () => {
    const archive = join(work, 'big.tar')
    const data = storeDir('load')
    let n = await start(data)
    const loading = dockerFed(n.host, ['load'], archive, 8 * MiB)
    await midway(data)
    await crash(n)
    expect((await loading).code).not.toBe(0)

    n = await start(data)
    await afterRestart(n, data)
    const loaded = await docker(n.host, ['load', '-i', archive])
    expect(loaded.stdout).toContain('Loaded image: big:latest')
    expect((await docker(n.host, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout).toBe('big:latest\n')
    blobsAreWhole(data)
    expect(verifyCli(data).code).toBe(0)
  }, 180_000)

  test('docker import: no image, no staging left, verify clean, the import completes', async () => {
    const rootfs = join(work, 'rootfs')
    mkdirSync(rootfs)
    run(['dd', 'if=/dev/urandom', `of=${join(rootfs, 'noise')}`, 'bs=1M', 'count=48', 'status=none'])
    run(['tar', '-cf', join(work, 'rootfs.tar'), '-C', rootfs, 'noise'])
    const data = storeDir('import')
    let n = await start(data)
    const importing = dockerFed(n.host, ['import', '-', 'imported:crash'], join(work, 'rootfs.tar'), 8 * MiB)
    await midway(data)
    await crash(n)
    expect((await importing).code).not.toBe(0)

    n = await start(data)
    await afterRestart(n, data)
    expect(filesUnder(data).filter((f) => f.path.startsWith('uploads/'))).toEqual([])
    const imported = await docker(n.host, ['import', join(work, 'rootfs.tar'), 'imported:crash'])
    expect(imported.stdout).toStartWith('sha256:')
    expect((await docker(n.host, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout).toBe('imported:crash\n')
    blobsAreWhole(data)
    expect(verifyCli(data).code).toBe(0)
  }, 180_000)
})
