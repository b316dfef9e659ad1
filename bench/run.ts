/**
 * `npm run bench`: edgepull beside distribution's pull-through cache and the upstream itself,
 * all on 127.0.0.1, ratios from one run (issue 6). See bench/README.md.
 *
 *   BIG_MIB=1024       size of the big layer (the testbed's library/big image)
 *   RUNS=3             runs per measure (medians)
 *   WRK_SECONDS=10     manifest load per server; WRK_CONNECTIONS=8, WRK_THREADS=2
 *   BENCH_RUNTIMES=node,bun,deno   which edgepull entries to try (absent entries are skipped)
 *   BENCH_NODE_VARIANT="--flag …"  also run the Node entry with these extra node flags
 *   BENCH_SCENARIOS=single,eight,pull  which scenarios to run (all by default)
 *   BENCH_DISTRIBUTION=0  leave distribution out (quicker runs while tuning edgepull)
 *   BENCH_SETTLE_S=10  idle time of each fresh server before it is measured
 *   BENCH_OUT=file     also write the markdown there
 *   BENCH_TIMEOUT_S=2700           the whole run's bound
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { stopTestbeds, testbed } from '../test/support/testbed.ts'
import { download, downloadConcurrently, skopeoCopy } from './clients.ts'
import { atExit, cleanupAll, peakRssMiB } from './proc.ts'
import { countingUpstream } from './counting-upstream.ts'
import { rawTable, ratioTable, type Baselines } from './report.ts'
import { emptyResult, eight, pull, settings, single, subjectOf } from './scenarios.ts'
import type { ServerResult } from './scenarios.ts'
import { distribution, edgepullKinds } from './servers.ts'

const env = process.env
const BIG_MIB = Number(env.BIG_MIB ?? 1024)
const RUNS = Number(env.RUNS ?? 3)
const LOAD = {
  seconds: Number(env.WRK_SECONDS ?? 10),
  connections: Number(env.WRK_CONNECTIONS ?? 8),
  threads: Number(env.WRK_THREADS ?? 2),
}
const TIMEOUT_S = Number(env.BENCH_TIMEOUT_S ?? 2700)
settings.settleMs = Number(env.BENCH_SETTLE_S ?? 10) * 1000

setTimeout(() => {
  console.error(`bench: gave up after ${TIMEOUT_S} s`)
  cleanupAll()
  process.exit(3)
}, TIMEOUT_S * 1000).unref()

const version = (cmd: string, args: string[]) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: 'pipe' }).trim().split('\n')[0]!
  } catch (err) {
    // wrk prints its version and exits 1
    return String((err as { stdout?: string }).stdout ?? '').trim().split('\n')[0] || 'absent'
  }
}
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ')

/** The pid listening on a loopback port (the upstream's, whose script keeps it to itself). */
function listenerPid(port: number): number | undefined {
  const out = version('ss', ['-ltnpH', `sport = :${port}`])
  return Number(/pid=(\d+)/.exec(out)?.[1]) || undefined
}

const started = new Date()
const loadAtStart = load()
console.error(`bench: testbed with a ${BIG_MIB} MiB layer (first build of the image takes a while)`)
const tb = await testbed('open', BIG_MIB)
atExit(stopTestbeds)
const s = await subjectOf(tb.url)
const upstreamPid = listenerPid(tb.port)
const blob = `${tb.url}/v2/${s.repository}/blobs/${s.blobDigest}`

const b: Baselines = { upstream: [], skopeo: [], upstreamRss: 0 }
const upstreamSample = async () => b.upstream.push((await download(blob, s.blobSize)).seconds)
console.error('bench: upstream')
for (let i = 0; i < RUNS; i++) await upstreamSample()
const counted = await countingUpstream(tb.port)
const countedBlob = `${counted.url}/v2/${s.repository}/blobs/${s.blobDigest}`
counted.reset()
b.eightDirect = (await downloadConcurrently(countedBlob, s.blobSize, 8)).seconds
await Bun.sleep(500)
b.eightDirectGets = counted.count('GET', `/blobs/${s.blobDigest}`)
const upTimes = b.upstream.map((x) => x.toFixed(2)).join(', ')
const eightUp = `${b.eightDirect.toFixed(2)} s, ${b.eightDirectGets} GETs`
console.error(`  upstream: ${upTimes} s; 8 clients ${eightUp}`)

const only = env.BENCH_RUNTIMES?.split(',').map((x) => x.trim())
const variant = env.BENCH_NODE_VARIANT?.trim().split(/\s+/).filter(Boolean)
const { kinds, skipped } = edgepullKinds(only, variant)
const servers = env.BENCH_DISTRIBUTION === '0' ? kinds : [distribution, ...kinds]
const scenarios = new Set((env.BENCH_SCENARIOS ?? 'single,eight,pull').split(',').map((x) => x.trim()))
const results: ServerResult[] = servers.map((k) => emptyResult(k.name))
// Round-robin over the servers, run by run, so load drifting on a shared machine hits all alike.
for (let i = 0; i < RUNS && scenarios.has('single'); i++) {
  console.error(`bench: single client, run ${i + 1} of ${RUNS}`)
  await upstreamSample()
  for (const [k, kind] of servers.entries()) {
    await single(kind, tb.url, s, results[k]!, i === RUNS - 1 ? LOAD : undefined)
  }
}
if (scenarios.has('eight')) console.error('bench: eight clients')
for (const [k, kind] of servers.entries()) {
  if (scenarios.has('eight')) await eight(kind, counted, s, results[k]!)
}
for (let i = 0; i < RUNS && scenarios.has('pull'); i++) {
  console.error(`bench: Engine API pull against skopeo, run ${i + 1} of ${RUNS}`)
  for (const [k, kind] of servers.entries()) if (kind.engine) await pull(kind, tb.url, s, results[k]!)
  const k = await skopeoCopy(tb.host, s.repository, s.tag)
  console.error(`  skopeo copy: ${k.seconds.toFixed(2)} s`)
  b.skopeo.push(k.seconds)
  b.skopeoRss = Math.max(b.skopeoRss ?? 0, k.rss)
}
b.upstreamRss = upstreamPid ? peakRssMiB(upstreamPid) : 0
await counted.stop()

const memGiB = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) / 2 ** 20
const tools = [
  `node ${version('node', ['--version'])}`,
  `bun ${version('node_modules/.bin/bun', ['--version'])}`,
  `deno ${version('node_modules/.bin/deno', ['--version']).split(' ')[1]}`,
  version('docker-registry', ['--version']).replace('github.com/docker/distribution', 'distribution'),
  version('skopeo', ['--version']),
  version('curl', ['--version']).split(' ').slice(0, 2).join(' '),
  version('wrk', ['--version']).split(' ').slice(0, 2).join(' '),
]
const md = [
  `### ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC: ` +
    `${BIG_MIB} MiB layer, median of ${RUNS}`,
  '',
  `Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${memGiB.toFixed(0)} GiB; ` +
    `${tools.join(', ')}.`,
  `Load average (1/5/15 min): ${loadAtStart} at start, ${load()} at end (shared machine).`,
  ...(skipped.length ? [`Skipped runtimes (no entry or npm script): ${skipped.join(', ')}.`] : []),
  '',
  `Every server starts with an empty store and idles ${settings.settleMs / 1000} s before it is measured.`,
  'Speed ratios are reference time / edgepull time (> 1: edgepull faster); wall-time ratios are',
  'edgepull time / reference time (< 1: edgepull faster); distribution\'s own column compares it',
  'with the upstream.',
  '',
  ratioTable(results, b),
  '',
  rawTable(results, b, s.blobSize),
  '',
  'The eight-client scenario runs against a second instance of the upstream registry over the same',
  'storage with its access log on, which counts the GETs (bench/counting-upstream.ts).',
  ...results.flatMap((r) => r.errors.map((e) => `- ${r.name}: ${e.replace(/\n/g, ' ')}`)),
].join('\n')
console.log(md)
if (env.BENCH_OUT) writeFileSync(env.BENCH_OUT, `${md}\n`)
cleanupAll()
process.exit(results.some((r) => r.errors.length) ? 1 : 0)
