/**
 * The Worker on this machine, as Cloudflare would run it: the bundle `wrangler deploy` would
 * upload (built with `--dry-run`), run by Miniflare's workerd with a local R2 bucket, with the
 * bindings, compatibility date and flags read from wrangler.toml. `npm run start:workers`
 * and the Workers integration tests both start it from here.
 *
 * Miniflare rather than `wrangler dev`: wrangler 4.86 (the last on Node 20) routes every
 * subrequest's inspector events through its Node process, which leaks a socket per message;
 * a pull of a 64 MiB layer then takes tens of seconds and can exhaust file descriptors.
 * Miniflare runs the same workerd without that proxy.
 */
import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { promisify } from 'node:util'
import { Log, LogLevel, Miniflare } from 'miniflare'

/** The checkout (where wrangler.toml is). */
export const ROOT = resolve(import.meta.dirname, '..')

/** Keeps wrangler offline and quiet: no telemetry, no update check, no cf.json download. */
export const WRANGLER_ENV = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
}

/** Bundles src/runtime/workers.ts as `wrangler deploy` would, into `outdir`; the module's path. */
export async function buildWorker(outdir: string): Promise<string> {
  const wrangler = join(ROOT, 'node_modules/.bin/wrangler')
  const args = ['deploy', '--dry-run', '--outdir', outdir, '--config', join(ROOT, 'wrangler.toml')]
  try {
    await promisify(execFile)(wrangler, args, {
      cwd: ROOT,
      env: { ...process.env, ...WRANGLER_ENV },
    })
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string }
    throw new Error(`wrangler could not build the Worker:\n${stdout ?? ''}${stderr ?? ''}`)
  }
  return join(outdir, 'workers.js')
}

/** Options for startLocalWorker. */
export interface LocalWorkerOptions {
  /** Listening address and port (0: any free port). */
  host: string
  port: number
  /** The config file's text, passed as the `EDGEPULL_CONFIG_JSON` var (else wrangler.toml's). */
  configJson?: string
  /** More vars, as `wrangler secret put` would add them (`EDGEPULL_TOKEN_SECRET`). */
  secrets?: Record<string, string>
  /** Prints the Worker's console output (the tests leave it off). */
  verbose?: boolean
}

/** A Worker running locally. */
export interface LocalWorker {
  /** `http://HOST:PORT` */
  url: string
  /** The bundle wrangler built (removed by stop). */
  script: string
  /** The local bucket behind the `BLOBS` binding, for inspection. */
  bucket(): Promise<unknown>
  /** Stops workerd and removes the bundle and the local R2 data. */
  stop(): Promise<void>
}

/**
 * wrangler's API, imported without the SIGINT handler its module installs: that handler
 * exits the process at once, before the caller could dispose of workerd and its temp dir.
 */
async function wranglerApi(): Promise<typeof import('wrangler')> {
  const before = new Set(process.listeners('SIGINT'))
  const api = await import('wrangler')
  for (const l of process.listeners('SIGINT')) if (!before.has(l)) process.off('SIGINT', l)
  return api
}

// Quiet, but drained: a full pipe would stall workerd.
const drain = (out: Readable, err: Readable) => void (out.resume(), err.resume())

/** Builds the Worker and serves it with local R2 in a temporary directory. */
export async function startLocalWorker(opts: LocalWorkerOptions): Promise<LocalWorker> {
  const work = await mkdtemp(join(tmpdir(), 'edgepull-workers-'))
  let mf: Miniflare | undefined
  // Miniflare kills workerd and exits on SIGINT by itself (exit-hook), before any async
  // clean-up could run: the temp dir goes in the synchronous exit event.
  const removeWork = () => rmSync(work, { recursive: true, force: true })
  process.once('exit', removeWork)
  const stop = async () => {
    await mf?.dispose().catch(() => {})
    process.off('exit', removeWork)
    await rm(work, { recursive: true, force: true })
  }
  try {
    const bundleDir = join(work, 'bundle')
    const script = await buildWorker(bundleDir)
    const { workerOptions } = (await wranglerApi()).unstable_getMiniflareWorkerOptions(
      join(ROOT, 'wrangler.toml')
    )
    mf = new Miniflare({
      name: 'edgepull',
      modules: true,
      scriptPath: script,
      // Module paths are taken relative to this; the default (the cwd) cannot reach /tmp.
      modulesRoot: bundleDir,
      compatibilityDate: workerOptions.compatibilityDate,
      compatibilityFlags: workerOptions.compatibilityFlags,
      bindings: {
        ...workerOptions.bindings,
        ...(opts.configJson === undefined ? {} : { EDGEPULL_CONFIG_JSON: opts.configJson }),
        ...opts.secrets,
      },
      r2Buckets: workerOptions.r2Buckets,
      r2Persist: join(work, 'r2'),
      host: opts.host,
      port: opts.port,
      // No download of Request.cf data: local runs stay offline.
      cf: false,
      log: new Log(opts.verbose ? LogLevel.INFO : LogLevel.WARN),
      handleRuntimeStdio: opts.verbose ? undefined : drain,
    })
    const url = await mf.ready
    const origin = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${url.port}`
    return { url: origin, script, bucket: () => mf!.getR2Bucket('BLOBS'), stop }
  } catch (err) {
    await stop()
    throw err
  }
}
