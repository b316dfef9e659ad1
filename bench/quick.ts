/**
 * `npm run bench:quick`: a few minutes' look at edgepull alone while tuning it, with what the
 * wall clock hides: each fresh, settled instance takes a cold GET (or eight at once), two warm
 * GETs, optionally the manifest load, and reports the server's CPU time (all threads, from
 * /proc), minor page faults and peak RSS beside the times. No distribution, no ratios: the
 * full table is `npm run bench`.
 *
 *   QUICK_RUNTIMES=node         edgepull runtimes, as in BENCH_RUNTIMES
 *   QUICK_NODE_VARIANT="--flag" also the Node entry with these extra flags (alternating)
 *   QUICK_RUNS=2  QUICK_EIGHT=1 (eight cold clients instead of one)  QUICK_WRK=1 (manifest load)
 *   BIG_MIB=1024  BENCH_SETTLE_S=10
 */
import { readFileSync } from 'node:fs'
import { stopTestbeds, testbed } from '../test/support/testbed.ts'
import { download, downloadConcurrently, wrk } from './clients.ts'
import { atExit, cleanupAll, peakRssMiB, until } from './proc.ts'
import { blobUrl, MANIFEST_ACCEPT, manifestUrl, subjectOf } from './scenarios.ts'
import { edgepullKinds } from './servers.ts'

const env = process.env
const words = (v: string | undefined) => v?.split(/[\s,]+/).filter(Boolean)
const RUNS = Number(env.QUICK_RUNS ?? 2)
const SETTLE_MS = Number(env.BENCH_SETTLE_S ?? 10) * 1000

/** utime + stime of every thread, seconds; minor faults. */
function usage(pid: number): { cpu: number; faults: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return { cpu: (Number(f[11]) + Number(f[12])) / 100, faults: Number(f[7]) }
}

const tb = await testbed('open', Number(env.BIG_MIB ?? 1024))
atExit(stopTestbeds)
const s = await subjectOf(tb.url)
const { kinds } = edgepullKinds(words(env.QUICK_RUNTIMES), words(env.QUICK_NODE_VARIANT))
const upstream = async () => (await download(blobUrl(tb.url, s), s.blobSize)).seconds.toFixed(2)
console.log(`upstream GET ${await upstream()} s`)

for (let i = 0; i < RUNS; i++) {
  for (const kind of kinds) {
    const inst = await kind.start(tb.url)
    try {
      await Bun.sleep(SETTLE_MS)
      const url = blobUrl(inst.url, s)
      const timed = async (what: string, f: () => Promise<{ seconds: number }>) => {
        const before = usage(inst.pid)
        const { seconds } = await f()
        const after = usage(inst.pid)
        const cpu = (after.cpu - before.cpu).toFixed(2)
        return `${what} ${seconds.toFixed(2)} s (cpu ${cpu} s, ${after.faults - before.faults} faults)`
      }
      const out = [
        env.QUICK_EIGHT
          ? await timed('eight', () => downloadConcurrently(url, s.blobSize, 8))
          : await timed('cold', () => download(url, s.blobSize)),
      ]
      await until(() => inst.stored(s.blobDigest, s.blobSize), 120_000, 50)
      for (let w = 0; w < 2; w++) out.push(await timed('warm', () => download(url, s.blobSize)))
      if (env.QUICK_WRK) {
        const headers = { Accept: MANIFEST_ACCEPT }
        const murl = manifestUrl(inst.url, s, s.manifestDigest)
        await fetch(murl, { headers }).then((r) => r.arrayBuffer())
        const rps = await wrk(murl, headers, { seconds: 10, connections: 8, threads: 2 })
        out.push(`manifests ${rps.toFixed(0)} req/s`)
      }
      out.push(`peak RSS ${peakRssMiB(inst.pid).toFixed(0)} MiB`)
      console.log(`${kind.name}: ${out.join(' | ')}`)
    } finally {
      await inst.stop()
    }
  }
}
console.log(`upstream GET ${await upstream()} s`)
cleanupAll()
process.exit(0)
