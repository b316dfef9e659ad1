/**
 * A bounded soak: the real Node entry (as `npm start` runs it) over the real testbed
 * registry, with many clients at once mixing Engine API pulls, mirror manifest and blob
 * reads (whole and ranged), `docker rmi` and `docker image prune` of the very images the
 * others are pulling. Nothing may fail, the process's memory and open files may not grow
 * with the work done, and at the end every stored blob still hashes to its name.
 *
 * `npm test` runs it for SOAK_SECONDS (default 20); `npm run soak` runs it longer (default
 * 180 s; SOAK_SECONDS and SOAK_CLIENTS override).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { createReadStream, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { startNode, type NodeProcess } from './support/edgepull.ts'
import { testbed, type Testbed } from './support/testbed.ts'
import { MANIFEST_ACCEPT as ACCEPT } from '../src/oci/media-types.ts'

const SECONDS = Number(process.env.SOAK_SECONDS ?? 20)
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 12)
const IMAGES = ['busybox', 'layered', 'many', 'multiarch', 'big']

let tb: Testbed
let ep: NodeProcess

beforeAll(async () => {
  tb = await testbed('open')
  ep = await startNode({ 'docker.io': { endpoint: tb.url } })
})
afterAll(async () => {
  await ep?.stop()
})

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!
const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`

/** One operation: resolves to a problem description, or undefined when it went right. */
type Op = () => Promise<string | undefined>

async function pull(): Promise<string | undefined> {
  const image = pick(IMAGES)
  const res = await fetch(`${ep.url}/v1.47/images/create?fromImage=${image}&tag=latest`, { method: 'POST' })
  const text = await res.text()
  if (res.status !== 200) return `pull ${image}: ${res.status} ${text}`
  const last = text.trim().split('\r\n').at(-1) ?? ''
  if (text.includes('errorDetail') || !last.includes('Status: ')) return `pull ${image}: ${text.slice(-300)}`
}

async function manifest(image: string, accept = ACCEPT): Promise<{ json: any; problem?: string }> {
  const res = await fetch(`${ep.url}/v2/library/${image}/manifests/latest`, { headers: { accept } })
  const bytes = new Uint8Array(await res.arrayBuffer())
  const digest = res.headers.get('docker-content-digest')
  if (res.status !== 200) {
    return { json: null, problem: `manifest ${image}: ${res.status} ${new TextDecoder().decode(bytes)}` }
  }
  if (sha256(bytes) !== digest) return { json: null, problem: `manifest ${image}: body does not match ${digest}` }
  return { json: JSON.parse(new TextDecoder().decode(bytes)) }
}

/** A layer or config through the mirror, whole or a range of it, checked against its digest. */
async function blob(): Promise<string | undefined> {
  const image = pick(IMAGES.filter((i) => i !== 'multiarch'))
  const m = await manifest(image, 'application/vnd.oci.image.manifest.v1+json')
  if (m.problem) return m.problem
  const desc = pick([m.json.config, ...m.json.layers]) as { digest: string; size: number }
  const url = `${ep.url}/v2/library/${image}/blobs/${desc.digest}`
  const whole = await fetch(url)
  const bytes = new Uint8Array(await whole.arrayBuffer())
  if (whole.status !== 200 || sha256(bytes) !== desc.digest) {
    return `blob ${desc.digest}: ${whole.status}, ${bytes.byteLength} of ${desc.size} bytes, ${sha256(bytes)}`
  }
  const start = Math.floor(Math.random() * desc.size)
  const ranged = await fetch(url, { headers: { range: `bytes=${start}-` } })
  const part = new Uint8Array(await ranged.arrayBuffer())
  if (ranged.status !== 206 || Buffer.compare(part, bytes.subarray(start)) !== 0) {
    return `blob ${desc.digest} from ${start}: ${ranged.status}, ${part.byteLength} bytes`
  }
}

/** `docker rmi`: the image may have been removed by someone else already. */
async function rmi(): Promise<string | undefined> {
  const image = pick(IMAGES)
  const res = await fetch(`${ep.url}/v1.47/images/${image}:latest`, { method: 'DELETE' })
  if (res.status !== 200 && res.status !== 404) return `rmi ${image}: ${res.status} ${await res.text()}`
  await res.body?.cancel()
}

/** `docker image prune -a`: every image, as no container holds any. */
async function prune(): Promise<string | undefined> {
  const filters = encodeURIComponent(JSON.stringify({ dangling: ['false'] }))
  const res = await fetch(`${ep.url}/v1.47/images/prune?filters=${filters}`, { method: 'POST' })
  const body = await res.text()
  // dockerd too refuses a second prune while one runs (409); that is an answer, not a fault.
  if (res.status !== 200 && !(res.status === 409 && body.includes('already running'))) {
    return `prune: ${res.status} ${body}`
  }
}

const OPS: Op[] = [pull, pull, pull, blob, blob, blob, async () => (await manifest(pick(IMAGES))).problem, rmi, rmi, prune]

/** The process's resident set and what it holds open, from /proc. */
function usage(pid: number): { rssMiB: number; files: number; sockets: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  let files = 0
  let sockets = 0
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = ''
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`)
    } catch {
      continue // closed while we looked
    }
    if (target.startsWith('socket:')) sockets++
    else if (target.startsWith('/')) files++
  }
  return { rssMiB: rssKiB / 1024, files, sockets }
}

async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer)
  return `sha256:${h.digest('hex')}`
}

function storedBlobs(dataDir: string): Array<{ digest: string; path: string }> {
  const root = join(dataDir, 'blobs', 'sha256')
  return readdirSync(root).flatMap((prefix) =>
    readdirSync(join(root, prefix)).map((hex) => ({ digest: `sha256:${hex}`, path: join(root, prefix, hex) }))
  )
}

test(
  `${CLIENTS} clients mixing pulls, mirror reads, rmi and prune for ${SECONDS} s`,
  async () => {
    const idle = usage(ep.pid)
    const problems: string[] = []
    const counts = new Map<string, number>()
    const samples: number[] = []
    const deadline = Date.now() + SECONDS * 1000
    const sampler = setInterval(() => samples.push(usage(ep.pid).rssMiB), 250)

    const client = async () => {
      while (Date.now() < deadline) {
        const op = pick(OPS)
        const name = op.name || 'manifest'
        counts.set(name, (counts.get(name) ?? 0) + 1)
        try {
          const problem = await op()
          if (problem) problems.push(problem)
        } catch (e) {
          problems.push(`${name}: ${(e as Error).message}`)
        }
      }
    }
    await Promise.all(Array.from({ length: CLIENTS }, client))
    clearInterval(sampler)
    console.log(`soak: ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}`)
    if (problems.length) console.log(ep.output().slice(-4000))
    expect(problems).toEqual([])
    expect(await (await fetch(`${ep.url}/_ping`)).text()).toBe('OK')

    // Memory: a leak grows with the work done, so the last third of the run would sit higher
    // than the second; the first third is left out as warm-up (caches, heap growth).
    const third = Math.floor(samples.length / 3)
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    const middle = mean(samples.slice(third, 2 * third))
    const last = mean(samples.slice(2 * third))
    console.log(
      `soak: RSS idle ${idle.rssMiB.toFixed(0)} MiB, mean ${middle.toFixed(0)} in the middle third, ${last.toFixed(0)} in the last, peak ${Math.max(...samples).toFixed(0)}`
    )
    expect(last).toBeLessThan(middle + 32)

    // Open files: once the clients are gone, no store file is held; sockets go back down.
    let after = usage(ep.pid)
    for (let i = 0; i < 40 && (after.files > idle.files || after.sockets > idle.sockets + CLIENTS); i++) {
      await Bun.sleep(250)
      after = usage(ep.pid)
    }
    console.log(`soak: open files ${idle.files} → ${after.files}, sockets ${idle.sockets} → ${after.sockets}`)
    expect(after.files).toBeLessThanOrEqual(idle.files)
    expect(after.sockets).toBeLessThanOrEqual(idle.sockets + CLIENTS)

    // Every pull once more succeeds, and every blob in the store is what its name says.
    for (const image of IMAGES) {
      const res = await fetch(`${ep.url}/v1.47/images/create?fromImage=${image}&tag=latest`, { method: 'POST' })
      expect(await res.text()).toContain('Status: ')
    }
    const blobs = storedBlobs(ep.dataDir)
    expect(blobs.length).toBeGreaterThan(IMAGES.length)
    for (const b of blobs) expect(await hashFile(b.path)).toBe(b.digest)
  },
  (SECONDS + 120) * 1000
)
