/**
 * Pull benchmark alone (`npm run bench` includes it): the testbed's big image (BIG_MIB, default
 * 1024) pulled through edgepull's POST /images/create on each runtime whose entry exists, beside
 * `skopeo copy` of the same image from the same upstream. Prints seconds, peak RSS and ratios.
 *
 *   npm run bench:pull            # BIG_MIB=1024, RUNS=3 by default
 */
import { stopTestbeds, testbed } from '../test/support/testbed.ts'
import { skopeoCopy } from './clients.ts'
import { atExit, cleanupAll } from './proc.ts'
import { median } from './report.ts'
import { emptyResult, pull, type Subject } from './scenarios.ts'
import { edgepullKinds } from './servers.ts'

const BIG_MIB = Number(process.env.BIG_MIB ?? 1024)
const RUNS = Number(process.env.RUNS ?? 3)

const tb = await testbed('open', BIG_MIB)
atExit(stopTestbeds)
// pulls() needs only the repository and tag of the subject.
const s = { repository: 'library/big', tag: 'latest' } as Subject
const rows: Array<[string, number, number]> = []
for (const kind of edgepullKinds().kinds) {
  const r = emptyResult(kind.name)
  for (let i = 0; i < RUNS; i++) await pull(kind, tb.url, s, r)
  rows.push([`${kind.name} POST /images/create`, median(r.pull), r.rss.pull ?? NaN])
}
const k: number[] = []
let rss = 0
for (let i = 0; i < RUNS; i++) {
  const run = await skopeoCopy(tb.host, s.repository, s.tag)
  k.push(run.seconds)
  rss = Math.max(rss, run.rss)
}
rows.push(['skopeo copy docker:// → dir:', median(k), rss])

const row = (name: string, s: number, rss: number) =>
  `| ${name.padEnd(42)} | ${s.toFixed(2).padStart(7)} | ${rss.toFixed(0).padStart(12)} |`
console.log(`\n${BIG_MIB} MiB layer, median of ${RUNS} cold pulls, ${new Date().toISOString()}\n`)
console.log(`| ${'client'.padEnd(42)} | seconds | peak RSS MiB |`)
console.log(`| ${'-'.repeat(42)} | ------- | ------------ |`)
for (const [name, s, r] of rows) console.log(row(name, s, r))
for (const [name, s] of rows.slice(0, -1)) {
  console.log(`\n${name}: speed vs skopeo ${(median(k) / s).toFixed(2)}× (≥ 1: no slower)`)
}
cleanupAll()
