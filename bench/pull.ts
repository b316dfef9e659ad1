/**
 * Pull benchmark (issue: core): the testbed's big image (BIG_MIB, default 1024) pulled
 * through edgepull's POST /images/create on the Node entry, beside `skopeo copy` of the
 * same image from the same upstream. Prints seconds, peak RSS and ratios.
 *
 *   npm run bench:pull            # BIG_MIB=1024 by default
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nodeEntry } from '../test/support/build.ts'
import { freePort } from '../test/support/ports.ts'
import { stopTestbeds, testbed } from '../test/support/testbed.ts'

const BIG_MIB = Number(process.env.BIG_MIB ?? 1024)
const RUNS = Number(process.env.RUNS ?? 3)

/** Peak resident set of a process, from the kernel's high-water mark. */
const peakRssMiB = (pid: number) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024

async function startEdgepull(upstream: string) {
  const work = mkdtempSync(join(tmpdir(), 'edgepull-bench-'))
  writeFileSync(join(work, 'config.json'), JSON.stringify({ registries: { 'docker.io': { endpoint: upstream } } }))
  const port = await freePort()
  const child = spawn('node', [nodeEntry()], {
    env: { ...process.env, PORT: String(port), EDGEPULL_CONFIG: join(work, 'config.json'), EDGEPULL_DATA: join(work, 'data') },
    stdio: 'ignore',
  })
  const url = `http://127.0.0.1:${port}`
  for (;;) {
    try {
      if ((await fetch(`${url}/_ping`)).ok) break
    } catch {}
    await Bun.sleep(50)
  }
  return { url, pid: child.pid!, stop: () => (child.kill(), rmSync(work, { recursive: true, force: true })) }
}

async function edgepullPull(upstream: string) {
  const ep = await startEdgepull(upstream)
  const t0 = performance.now()
  const res = await fetch(`${ep.url}/v1.50/images/create?fromImage=docker.io/library/big&tag=latest`, {
    method: 'POST',
  })
  const text = await res.text()
  const seconds = (performance.now() - t0) / 1000
  if (!text.includes('Status: Downloaded newer image')) throw new Error(`pull failed: ${text.slice(-300)}`)
  const rss = peakRssMiB(ep.pid)
  ep.stop()
  return { seconds, rss }
}

async function skopeoCopy(host: string) {
  const out = mkdtempSync(join(tmpdir(), 'edgepull-bench-skopeo-'))
  const t0 = performance.now()
  const proc = Bun.spawn(
    ['/usr/bin/time', '-f', '%M', 'skopeo', 'copy', '--quiet', '--src-tls-verify=false',
      `docker://${host}/library/big:latest`, `dir:${out}`],
    { stderr: 'pipe', stdout: 'ignore' }
  )
  const stderr = await new Response(proc.stderr).text()
  if ((await proc.exited) !== 0) throw new Error(`skopeo failed: ${stderr}`)
  const seconds = (performance.now() - t0) / 1000
  rmSync(out, { recursive: true, force: true })
  return { seconds, rss: Number(stderr.trim().split('\n').at(-1)) / 1024 }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const tb = await testbed('open', BIG_MIB)
const ours: { seconds: number; rss: number }[] = []
const theirs: { seconds: number; rss: number }[] = []
for (let i = 0; i < RUNS; i++) {
  ours.push(await edgepullPull(tb.url))
  theirs.push(await skopeoCopy(tb.host))
}
stopTestbeds()

const e = { s: median(ours.map((r) => r.seconds)), rss: Math.max(...ours.map((r) => r.rss)) }
const k = { s: median(theirs.map((r) => r.seconds)), rss: Math.max(...theirs.map((r) => r.rss)) }
const row = (name: string, s: number, rss: number) =>
  `| ${name.padEnd(34)} | ${s.toFixed(2).padStart(7)} | ${rss.toFixed(0).padStart(13)} |`
console.log(`\n${BIG_MIB} MiB layer, median of ${RUNS} cold pulls, ${new Date().toISOString()}\n`)
console.log('| client                             | seconds | peak RSS MiB |')
console.log('| ---------------------------------- | ------- | ------------- |')
console.log(row('edgepull POST /images/create (node)', e.s, e.rss))
console.log(row('skopeo copy docker:// → dir:', k.s, k.rss))
console.log(`\nspeed ratio skopeo/edgepull: ${(k.s / e.s).toFixed(2)}× (≥ 1 means edgepull is no slower)`)
console.log(`peak RSS edgepull: ${e.rss.toFixed(0)} MiB (target ≤ 150 MiB)`)
