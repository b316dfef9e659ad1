/**
 * edgepull under test: in-process on Bun.serve (fast, inspectable store), or as the real
 * Node entry (`npm start`'s code path) in a child process, as users run it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseFileConfig, type RegistryConfig } from '../../src/config.ts'
import { assemble } from '../../src/runtime/assemble.ts'
import type { StorageDriver } from '../../src/storage/driver.ts'
import { createFsDriver } from '../../src/storage/fs.ts'
import { createMemoryDriver } from '../../src/storage/memory.ts'
import { nodeEntry, nodeFlags, ROOT } from './build.ts'
import { freePort } from './ports.ts'


export interface Running {
  url: string
  host: string
  port: number
  stop(): Promise<void>
}

export interface InProcess extends Running {
  driver: StorageDriver
  /** The fs store's root (`store: 'fs'` only). */
  dir?: string
}

export interface StartOptions {
  registries: Record<string, RegistryConfig>
  store?: 'memory' | 'fs'
  platform?: string
  maxConcurrentDownloads?: number
  fetch?: (req: Request) => Promise<Response>
  /** More of the config file (`mirror`, `adminToken`…), merged over the keys above. */
  config?: Record<string, unknown>
  /** As if listening beyond loopback (the write policy's `exposed`). */
  exposed?: boolean
  /** DNS for the network guard, as the Bun entry passes it (default: names are not resolved). */
  resolve?: (hostname: string) => Promise<string[]>
}

export async function startInProcess(opts: StartOptions): Promise<InProcess> {
  const config = parseFileConfig(
    JSON.stringify({
      registries: opts.registries,
      platform: opts.platform ?? 'linux/amd64',
      maxConcurrentDownloads: opts.maxConcurrentDownloads ?? 3,
      ...opts.config,
    })
  )
  const dir = opts.store === 'fs' ? mkdtempSync(join(tmpdir(), 'edgepull-store-')) : undefined
  const driver = dir ? await createFsDriver(dir) : createMemoryDriver()
  const app = assemble({
    config,
    driver,
    fetch: opts.fetch ?? ((req) => fetch(req)),
    resolve: opts.resolve,
    runtime: { name: 'bun', version: Bun.version, os: 'linux', arch: 'amd64' },
    exposed: opts.exposed,
    clientAddress: (req, env) => (env as Bun.Server<undefined>).requestIP(req)?.address,
  })
  const server = Bun.serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0, idleTimeout: 0 })
  const port = server.port!
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    driver,
    dir,
    async stop() {
      await server.stop(true)
      if (dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface NodeProcess extends Running {
  dataDir: string
  pid: number
  output(): string
}

/** More for startNode: config file keys beside `registries`, and environment variables. */
export interface NodeOptions {
  config?: Record<string, unknown>
  env?: Record<string, string>
}

/** Starts the bundled Node entry, as `npm start` does, on a free port (loopback unless `env.HOST`). */
export async function startNode(
  registries: Record<string, RegistryConfig>,
  opts: NodeOptions = {}
): Promise<NodeProcess> {
  const work = mkdtempSync(join(tmpdir(), 'edgepull-node-'))
  const configPath = join(work, 'config.json')
  writeFileSync(configPath, JSON.stringify({ registries, ...opts.config }))
  const port = await freePort()
  const dataDir = join(work, 'data')
  let out = ''
  const child: ChildProcess = spawn('node', [...nodeFlags(), nodeEntry()], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      EDGEPULL_CONFIG: configPath,
      EDGEPULL_DATA: dataDir,
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`edgepull exited early:\n${out}`)
    try {
      if ((await fetch(`${url}/_ping`)).ok) break
    } catch {}
    if (i > 300) throw new Error(`edgepull did not start:\n${out}`)
    await Bun.sleep(50)
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    port,
    dataDir,
    pid: child.pid!,
    output: () => out,
    async stop() {
      child.kill('SIGTERM')
      // Already gone (a test killed it with SIGKILL): exitCode stays null, signalCode is set.
      const exited = child.exitCode !== null || child.signalCode !== null
      await new Promise((r) => (exited ? r(null) : child.once('exit', r)))
      rmSync(work, { recursive: true, force: true })
    },
  }
}
