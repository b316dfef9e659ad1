/**
 * What is measured on each server, every instance started with an empty store:
 *
 *   single  one cold GET of the big blob, wait until it is stored, one warm GET; optionally
 *           wrk on the cached manifest (by digest, by tag)
 *   eight   eight cold GETs at once, the instance in front of the counting upstream
 *   pull    POST /images/create of the image, read to the end
 *
 * run.ts interleaves the servers run by run, so a shared machine's load drifts over all alike.
 * A scenario that fails is recorded as an error, so one broken runtime does not void the run.
 */
import { download, downloadConcurrently, enginePull, wrk } from './clients.ts'
import { until } from './proc.ts'
import type { CountingUpstream } from './counting-upstream.ts'
import type { Instance, ServerKind } from './servers.ts'

/** The image under test, as the upstream serves it. */
export interface Subject {
  /** `library/big` */
  repository: string
  tag: string
  manifestDigest: string
  blobDigest: string
  blobSize: number
}

/** Load settings for the manifest benchmark. */
export interface WrkOptions {
  seconds: number
  connections: number
  threads: number
}

/** Everything measured on one server. */
export interface ServerResult {
  name: string
  cold: number[]
  warm: number[]
  eight?: { seconds: number; upstreamGets: number }
  rpsDigest?: number
  rpsTag?: number
  pull: number[]
  /** Peak RSS (VmHWM) per scenario, MiB: the largest over that scenario's instances. */
  rss: { single?: number; eight?: number; pull?: number }
  errors: string[]
}

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ')

export const blobUrl = (base: string, s: Subject) => `${base}/v2/${s.repository}/blobs/${s.blobDigest}`
export const manifestUrl = (base: string, s: Subject, ref: string) =>
  `${base}/v2/${s.repository}/manifests/${ref}`

/**
 * How long a fresh instance idles before it is measured. A server users run has been up for a
 * while, and V8's memory reducer (which starts 8 s after start-up) leaves Node's heap limits
 * where a young process does not have them yet: measured without the wait, Node hid GC costs
 * that doubled its CPU per GiB once settled.
 */
export const settings = { settleMs: 10_000 }

/** Runs `f` on a fresh, settled instance, stops it whatever happens; f's result and RSS. */
async function withInstance<T>(
  kind: ServerKind,
  upstream: string,
  f: (i: Instance) => Promise<T>
): Promise<{ value: T; rss: number }> {
  const inst = await kind.start(upstream)
  try {
    await Bun.sleep(settings.settleMs)
    const value = await f(inst)
    return { value, rss: inst.peakRss() }
  } finally {
    await inst.stop()
  }
}

const note = (r: ServerResult, what: string) => (err: unknown) => {
  const msg = `${what}: ${(err as Error).message ?? err}`.split('\n').slice(0, 6).join('\n')
  r.errors.push(msg)
  console.error(`  ! ${r.name} ${msg}`)
}

const maxOf = (a: number | undefined, b: number) => Math.max(a ?? 0, b)

/**
 * One fresh instance: a cold GET, a warm GET once the blob is stored, and with `load`, wrk on
 * the cached manifest by digest and by tag.
 */
export async function single(
  kind: ServerKind,
  upstream: string,
  s: Subject,
  r: ServerResult,
  load?: WrkOptions
): Promise<void> {
  await withInstance(kind, upstream, async (inst) => {
    const cold = await download(blobUrl(inst.url, s), s.blobSize)
    // distribution stores its copy in the background: warm means it is committed.
    if (!(await until(() => inst.stored(s.blobDigest, s.blobSize), 120_000, 100))) {
      throw new Error('the blob was not stored within 120 s of the cold read')
    }
    const warm = await download(blobUrl(inst.url, s), s.blobSize)
    r.cold.push(cold.seconds)
    r.warm.push(warm.seconds)
    console.error(`  ${r.name}: cold ${cold.seconds.toFixed(2)} s, warm ${warm.seconds.toFixed(2)} s`)
    if (!load) return
    const headers = { Accept: MANIFEST_ACCEPT }
    for (const ref of [s.manifestDigest, s.tag]) {
      const url = manifestUrl(inst.url, s, ref)
      await fetch(url, { headers }).then((res) => {
        if (!res.ok) throw new Error(`GET ${url}: ${res.status}`)
        return res.arrayBuffer()
      })
    }
    r.rpsDigest = await wrk(manifestUrl(inst.url, s, s.manifestDigest), headers, load)
    r.rpsTag = await wrk(manifestUrl(inst.url, s, s.tag), headers, load)
    const rates = `${r.rpsDigest.toFixed(0)} req/s by digest, ${r.rpsTag.toFixed(0)} by tag`
    console.error(`  ${r.name}: manifest ${rates}`)
  })
    .then(({ rss }) => void (r.rss.single = maxOf(r.rss.single, rss)))
    .catch(note(r, 'single client'))
}

/** Eight concurrent cold GETs through a fresh instance in front of the counting upstream. */
export async function eight(
  kind: ServerKind,
  upstream: CountingUpstream,
  s: Subject,
  r: ServerResult
): Promise<void> {
  await withInstance(kind, upstream.url, async (inst) => {
    upstream.reset()
    const { seconds } = await downloadConcurrently(blobUrl(inst.url, s), s.blobSize, 8)
    // Count what the upstream served for this scenario, background fills included.
    await until(() => inst.stored(s.blobDigest, s.blobSize), 120_000, 100)
    await Bun.sleep(500) // the access log line follows the response, and crosses a pipe
    const upstreamGets = upstream.count('GET', `/blobs/${s.blobDigest}`)
    r.eight = { seconds, upstreamGets }
    console.error(`  ${r.name}: eight clients ${seconds.toFixed(2)} s, ${upstreamGets} upstream GETs`)
  })
    .then(({ rss }) => void (r.rss.eight = rss))
    .catch(note(r, 'eight clients'))
}

/** One Engine API pull of the image into an empty store. */
export async function pull(
  kind: ServerKind,
  upstream: string,
  s: Subject,
  r: ServerResult
): Promise<void> {
  await withInstance(kind, upstream, async (inst) => {
    const seconds = await enginePull(inst.url, `docker.io/${s.repository}`, s.tag)
    r.pull.push(seconds)
    console.error(`  ${r.name}: engine pull ${seconds.toFixed(2)} s`)
  })
    .then(({ rss }) => void (r.rss.pull = maxOf(r.rss.pull, rss)))
    .catch(note(r, 'engine pull'))
}

/** A fresh result for `name`. */
export const emptyResult = (name: string): ServerResult => ({
  name,
  cold: [],
  warm: [],
  pull: [],
  rss: {},
  errors: [],
})

/** The testbed's big image: its manifest digest and its largest layer. */
export async function subjectOf(upstream: string): Promise<Subject> {
  const repository = 'library/big'
  const tag = 'latest'
  const res = await fetch(`${upstream}/v2/${repository}/manifests/${tag}`, {
    headers: { Accept: MANIFEST_ACCEPT },
  })
  if (!res.ok) throw new Error(`upstream manifest: ${res.status}`)
  const manifestDigest = res.headers.get('docker-content-digest')!
  const m = (await res.json()) as { layers: { digest: string; size: number }[] }
  const big = m.layers.reduce((a, b) => (b.size > a.size ? b : a))
  return { repository, tag, manifestDigest, blobDigest: big.digest, blobSize: big.size }
}
