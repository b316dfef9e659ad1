/**
 * The upstream, counted: a second instance of the testbed's registry over the same storage and
 * with the same config, except that its access log is on (and its port). The eight-client
 * scenario points the servers under test at it and counts the blob GETs from its log.
 *
 * Why not a counting proxy in front of the upstream (test/support/counting-proxy.ts, or a TCP
 * relay): on this 2-core machine any relay doubles the cost of every upstream byte. Measured
 * with a relay process: one 1 GiB GET 0.55 → 1.36 s, eight clients 4.8 → 23.7 s, so the
 * scenario measured the relay rather than the servers, and penalised whoever fetched most.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '../test/support/ports.ts'
import { peakRssMiB, run, start, tempDir, waitHttp } from './proc.ts'

/** A registry serving the upstream's content, counting what it is asked. */
export interface CountingUpstream {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  readonly pid: number
  /** Forgets the requests seen so far. */
  reset(): void
  /** `METHOD` requests for a path ending in `suffix` answered since `reset`. */
  count(method: string, suffix: string): number
  peakRss(): number
  stop(): Promise<void>
}

/** The config file of the registry listening on `port`, found through its command line. */
async function configOf(port: number): Promise<string> {
  const { stdout } = await run('ss', ['-ltnpH', `sport = :${port}`], 5000)
  const pid = /pid=(\d+)/.exec(stdout)?.[1]
  if (!pid) throw new Error(`no process listens on 127.0.0.1:${port}`)
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
  const config = argv.find((a) => a.endsWith('.yml'))
  if (!config) throw new Error(`pid ${pid} (${argv.join(' ')}) has no config file argument`)
  return config
}

/** Starts the counting twin of the registry on `upstreamPort`. */
export async function countingUpstream(upstreamPort: number): Promise<CountingUpstream> {
  const original = readFileSync(await configOf(upstreamPort), 'utf8')
  const port = await freePort()
  const config = original
    .replace(/(accesslog:\s*\n\s*disabled:\s*)true/, '$1false')
    .replace(/addr: 127\.0\.0\.1:\d+/, `addr: 127.0.0.1:${port}`)
  if (!config.includes('disabled: false') || !config.includes(`:${port}`)) {
    throw new Error(`unexpected upstream config:\n${original}`)
  }
  const path = join(tempDir('counting-upstream'), 'config.yml')
  writeFileSync(path, config)
  const child = start('docker-registry', ['serve', path])
  let seen: string[] = []
  let buffered = ''
  // Combined log format, one line per answered request: … "GET /v2/… HTTP/1.1" 200 …
  child.proc.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString()
    const lines = buffered.split('\n')
    buffered = lines.pop()!
    for (const line of lines) {
      const m = /"([A-Z]+) (\S+) HTTP\/[\d.]+"/.exec(line)
      if (m) seen.push(`${m[1]} ${m[2]!.split('?')[0]}`)
    }
  })
  const url = `http://127.0.0.1:${port}`
  await waitHttp(`${url}/v2/`, 30_000, () => child.proc.exitCode === null)
  return {
    url,
    pid: child.pid,
    reset: () => void (seen = []),
    count: (method, suffix) =>
      seen.filter((s) => s.startsWith(`${method} `) && s.endsWith(suffix)).length,
    peakRss: () => peakRssMiB(child.pid),
    stop: () => child.stop(),
  }
}
