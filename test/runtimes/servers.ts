/**
 * edgepull started the way a user starts it on each runtime, for the shared cases in
 * cases.ts: Node (the bundle `npm start` runs), Bun (`npm run start:bun`), Deno (the
 * `npm run start:deno` script, with its narrow permissions) and Workers (wrangler's bundle in
 * Miniflare with local R2, as `npm run start:workers`). Each gets its own temporary store.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RegistryConfig } from '../../src/config.ts'
import { startLocalWorker } from '../../scripts/workers-local.ts'
import { ROOT, scriptCommand } from '../support/build.ts'
import { startNode } from '../support/edgepull.ts'
import { freePort } from '../support/ports.ts'

/** A running edgepull, whatever the runtime. */
export interface RuntimeServer {
  url: string
  host: string
  /** The server's output so far (for failure messages). */
  output(): string
  /** The server's process, when the test started it itself. */
  pid?: number
  /** True while the server process is up (a crash shows here). */
  alive(): boolean
  /** The bundle wrangler built (Workers only). */
  bundle?: string
  /** The Worker's local R2 bucket (Workers only). */
  bucket?(): Promise<LocalBucket>
  /** The write routes' bearer token, where the server needs one (beyond loopback: Workers). */
  writeToken?: string
  stop(): Promise<void>
}

/** What the tests ask of a local R2 bucket. */
export interface LocalBucket {
  head(key: string): Promise<{ size: number } | null>
}

export type Registries = Record<string, RegistryConfig>
/** Starts a server over `registries`, with `config`'s further keys in its config file. */
export type Starter = (registries: Registries, config?: Record<string, unknown>) => Promise<RuntimeServer>

/** The Node entry's bundle, as `npm start` runs it. */
export const startNodeServer: Starter = async (registries, config) => {
  const s = await startNode(registries, { config })
  return { ...s, alive: () => true }
}

/** `npm run start:bun`'s command (`bun --smol src/runtime/bun.ts`). */
export const startBunServer: Starter = (registries, config) => {
  const [, ...args] = scriptCommand('start:bun')
  return spawnServer(registries, [join(ROOT, 'node_modules/.bin/bun'), ...args], config)
}

/** `npm run start:deno`'s script: `deno run` with the least permissions that work. */
export const startDenoServer: Starter = (registries, config) =>
  spawnServer(registries, ['bash', 'scripts/start-deno.sh'], config)

/** A Worker is on the internet: its write routes need a writeToken (a secret, as deployed). */
const WORKER_WRITE_TOKEN = 'runtime-cases-write-token'

/** The Worker in Miniflare with local R2, as `npm run start:workers` runs it. */
export const startWorkersServer: Starter = async (registries, config) => {
  const worker = await startLocalWorker({
    host: '127.0.0.1',
    port: await freePort(),
    configJson: JSON.stringify({ registries, ...config }),
    secrets: { EDGEPULL_WRITE_TOKEN: WORKER_WRITE_TOKEN },
  })
  return {
    url: worker.url,
    host: new URL(worker.url).host,
    output: () => '',
    alive: () => true,
    bundle: worker.script,
    bucket: async () => (await worker.bucket()) as LocalBucket,
    writeToken: WORKER_WRITE_TOKEN,
    stop: worker.stop,
  }
}

// Runs `command` with PORT, EDGEPULL_CONFIG and EDGEPULL_DATA in a temp dir; waits for /_ping.
async function spawnServer(
  registries: Registries,
  command: string[],
  config?: Record<string, unknown>
): Promise<RuntimeServer> {
  const work = mkdtempSync(join(tmpdir(), 'edgepull-runtime-'))
  const configPath = join(work, 'config.json')
  writeFileSync(configPath, JSON.stringify({ registries, ...config }))
  const port = await freePort()
  let out = ''
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      EDGEPULL_CONFIG: configPath,
      EDGEPULL_DATA: join(work, 'data'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    rmSync(work, { recursive: true, force: true })
  }
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) {
      await stop()
      throw new Error(`${command.join(' ')} exited early:\n${out}`)
    }
    try {
      if ((await fetch(`${url}/_ping`)).ok) break
    } catch {}
    if (i > 600) {
      await stop()
      throw new Error(`${command.join(' ')} did not start:\n${out}`)
    }
    await Bun.sleep(50)
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    pid: child.pid,
    output: () => out,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop,
  }
}
