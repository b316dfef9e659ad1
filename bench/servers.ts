/**
 * The servers the benchmark compares, each started fresh (empty store) on a free loopback
 * port: distribution's pull-through cache (upstream.sh proxy) and edgepull on each runtime whose
 * entry exists.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nodeEntry, nodeFlags, ROOT, scriptCommand } from '../test/support/build.ts'
import { freePort } from '../test/support/ports.ts'
import { TESTBED_DIR } from '../test/support/testbed.ts'
import { peakRssMiB, removeDir, run, start, tempDir, until, waitHttp, type Child } from './proc.ts'

/** One running server with an empty store at start. */
export interface Instance {
  readonly url: string
  readonly pid: number
  /** True once `digest` is committed to this instance's store (not merely being filled). */
  stored(digest: string, size: number): boolean
  /** Its peak RSS so far (VmHWM), MiB. */
  peakRss(): number
  stop(): Promise<void>
}

/** A kind of server: how to start a fresh one in front of `upstream`. */
export interface ServerKind {
  readonly name: string
  /** Engine API pulls are edgepull's alone. */
  readonly engine: boolean
  start(upstream: string): Promise<Instance>
}

const fileHasSize = (path: string, size: number) => {
  try {
    return statSync(path).size === size
  } catch {
    return false
  }
}

const hexOf = (digest: string) => digest.slice('sha256:'.length)

/** distribution (CNCF registry) in proxy mode, via the testbed's own script. */
export const distribution: ServerKind = {
  name: 'distribution',
  engine: false,
  async start(upstream) {
    const dir = tempDir('distribution')
    const port = await freePort()
    const script = join(TESTBED_DIR, 'upstream.sh')
    await run('bash', [script, 'proxy', dir, String(port), upstream], 30_000)
    const pid = Number(await Bun.file(join(dir, 'registry.pid')).text())
    return {
      url: `http://127.0.0.1:${port}`,
      pid,
      stored: (digest, size) => {
        const hex = hexOf(digest)
        const blob = join(dir, 'data/docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data')
        return fileHasSize(blob, size)
      },
      peakRss: () => peakRssMiB(pid),
      async stop() {
        await run('bash', [script, 'stop', dir], 10_000).catch(() => {})
        await until(() => !existsSync(`/proc/${pid}`), 5000)
        removeDir(dir)
      },
    }
  },
}

/** How to launch one edgepull runtime, or undefined when this checkout has no such entry. */
type Launch = () => { cmd: string; args: string[] } | undefined

const bin = (name: string) => join(ROOT, 'node_modules/.bin', name)

/**
 * Each runtime as its npm script runs it, so the benchmark measures what users start (flags
 * included). Node's `start` builds dist/node.mjs first; the benchmark runs its private bundle
 * (test/support/build.ts) with the same node flags instead, so concurrent runs never share dist/.
 */
const LAUNCH: Record<string, Launch> = {
  node: () => ({ cmd: 'node', args: [...nodeFlags(), nodeEntry()] }),
  bun: () => {
    const [cmd, ...args] = scriptCommand('start:bun')
    return cmd && existsSync(join(ROOT, 'src/runtime/bun.ts'))
      ? { cmd: cmd === 'bun' ? bin('bun') : cmd, args }
      : undefined
  },
  deno: () => {
    const [cmd, ...args] = scriptCommand('start:deno')
    return cmd && existsSync(join(ROOT, 'src/runtime/deno.ts')) ? { cmd, args } : undefined
  },
}

/**
 * The edgepull runtimes available in this checkout, in LAUNCH order, filtered by `only`; plus,
 * with `nodeVariant`, the Node entry once more with those extra node flags (to try a flag
 * beside the default in one run).
 */
export function edgepullKinds(
  only?: string[],
  nodeVariant?: string[]
): { kinds: ServerKind[]; skipped: string[] } {
  const kinds: ServerKind[] = []
  const skipped: string[] = []
  const add = (name: string, how: { cmd: string; args: string[] }) =>
    kinds.push({ name, engine: true, start: (up) => startEdgepull(how, up) })
  for (const [runtime, launch] of Object.entries(LAUNCH)) {
    if (only && !only.includes(runtime)) continue
    const how = launch()
    if (!how) {
      skipped.push(runtime)
      continue
    }
    add(`edgepull (${runtime})`, how)
    if (runtime === 'node' && nodeVariant?.length) {
      const args = [...nodeVariant, ...how.args]
      add(`edgepull (node ${nodeVariant.join(' ')})`, { cmd: how.cmd, args })
    }
  }
  return { kinds, skipped }
}

/** The pid listening on a loopback port: the server itself, behind any wrapper script. */
async function listenerPid(port: number): Promise<number | undefined> {
  const { stdout } = await run('ss', ['-ltnpH', `sport = :${port}`], 5000)
  return Number(/pid=(\d+)/.exec(stdout)?.[1]) || undefined
}

async function startEdgepull(how: { cmd: string; args: string[] }, upstream: string): Promise<Instance> {
  const dir = tempDir('edgepull')
  const config = join(dir, 'config.json')
  writeFileSync(config, JSON.stringify({ registries: { 'docker.io': { endpoint: upstream } } }))
  const port = await freePort()
  const data = join(dir, 'data')
  const env = { PORT: String(port), EDGEPULL_CONFIG: config, EDGEPULL_DATA: data }
  const child: Child = start(how.cmd, how.args, env, ROOT)
  const url = `http://127.0.0.1:${port}`
  try {
    await waitHttp(`${url}/v2/`, 60_000, () => child.proc.exitCode === null)
  } catch (err) {
    await child.stop()
    throw new Error(`${how.cmd} ${how.args.join(' ')}: ${(err as Error).message}\n${child.output()}`)
  }
  const pid = (await listenerPid(port)) ?? child.pid
  return {
    url,
    pid,
    stored: (digest, size) => {
      const hex = hexOf(digest)
      return fileHasSize(join(data, 'blobs/sha256', hex.slice(0, 2), hex), size)
    },
    peakRss: () => peakRssMiB(pid),
    async stop() {
      await child.stop()
      removeDir(dir)
    },
  }
}
