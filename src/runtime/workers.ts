/**
 * Cloudflare Workers entry: the config file's JSON from the `EDGEPULL_CONFIG_JSON` var, the
 * R2 driver over the `BLOBS` bucket, the Workers fetch. wrangler.toml points here.
 *
 * Workers' traps (../shared/notes/runtimes.md), and what this file does about them:
 * - No process, no files: the config arrives as a var, blobs live in R2. Nothing here (nor
 *   in what it imports) touches undici or node:fs, which cannot be bundled for workerd.
 * - The app is built once per isolate, on the first request (module scope may not do I/O),
 *   and shared by the requests the isolate serves, so they share fills and token caches.
 * - A mirror fill runs on after its response ends (the last bytes reach the client before R2
 *   has committed them, or the client left). Its work is handed to the `waitUntil` of the
 *   request that started it, found through AsyncLocalStorage (nodejs_compat). A fill mostly
 *   completes while its client is still reading; waitUntil covers only that tail, and gives
 *   it at most 30 s after the client leaves. A pull's fills end with the pull.
 * - workerd drops a JS stream's Content-Length (sends it chunked): every body whose length is
 *   declared goes through a FixedLengthStream, which keeps the header and errors the
 *   response if the bytes fall short.
 * - 128 MB per isolate, shared by concurrent requests: fills keep an 8 MiB window for readers
 *   (not 32), R2 puts of known size stream, and puts of unknown size buffer one 8 MiB part.
 * - `c.executionCtx` exists only here; shared code guards its use.
 * - /docs has no Swagger UI here: its 1.9 MB of assets would triple the bundle (Workers
 *   limit scripts to 3 MB compressed on Free). `/openapi.json` is served as everywhere.
 */
import type { ExecutionContext } from 'hono'
import { AsyncLocalStorage } from 'node:async_hooks'
import { ConfigError, parseFileConfig, type FileConfig } from '../config.ts'
import { parsePlatform } from '../oci/platform.ts'
import { createR2Driver } from '../storage/r2.ts'
import type { FixedLengthStreamConstructor, R2Bucket } from '../storage/r2-types.ts'
import { assemble } from './assemble.ts'

/** The Worker's bindings (wrangler.toml): the bucket and the config var. */
export interface WorkerEnv {
  BLOBS: R2Bucket
  /** The config file's JSON, as a string (or an object, when [vars] writes it as a table). */
  EDGEPULL_CONFIG_JSON?: string | Record<string, unknown>
  /**
   * Seals the mirror's /v2 tokens; a secret (`wrangler secret put`), overriding the config's
   * `tokenSecret`. Every isolate must share it, or one refuses another's tokens.
   */
  EDGEPULL_TOKEN_SECRET?: string
  /** The write routes' bearer token (a secret), overriding the config's `writeToken`. */
  EDGEPULL_WRITE_TOKEN?: string
}

type App = ReturnType<typeof assemble>

const MiB = 1 << 20
const requests = new AsyncLocalStorage<ExecutionContext>()
let built: { env: WorkerEnv; app: App } | { env: WorkerEnv; error: ConfigError } | undefined

/** Keeps a fill's work alive past the response of the request that started it. */
function keepAlive(work: Promise<void>): void {
  try {
    requests.getStore()?.waitUntil(work)
  } catch {
    // waitUntil throws once its request has ended; nothing can extend the work then.
  }
}

function configText(v: WorkerEnv['EDGEPULL_CONFIG_JSON']): string {
  if (v === undefined || v === '') return '{}'
  return typeof v === 'string' ? v : JSON.stringify(v)
}

function workerConfig(env: WorkerEnv): FileConfig {
  const text = configText(env.EDGEPULL_CONFIG_JSON)
  const config = parseFileConfig(text, 'EDGEPULL_CONFIG_JSON')
  const secrets = {
    ...(env.EDGEPULL_TOKEN_SECRET ? { tokenSecret: env.EDGEPULL_TOKEN_SECRET } : {}),
    ...(env.EDGEPULL_WRITE_TOKEN ? { writeToken: env.EDGEPULL_WRITE_TOKEN } : {}),
  }
  if (Object.keys(secrets).length === 0) return config
  // Parsed again with the secrets in, so the schema checks them like any other field.
  const merged = JSON.stringify({ ...JSON.parse(text), ...secrets })
  return parseFileConfig(merged, 'EDGEPULL_CONFIG_JSON with the EDGEPULL_* secrets')
}

// Bindings are fixed for an isolate's life; a new deployment is a new isolate.
function appFor(env: WorkerEnv): App | ConfigError {
  if (built?.env === env) return 'app' in built ? built.app : built.error
  try {
    const config = workerConfig(env)
    const { os, architecture } = parsePlatform(config.platform)
    const app = assemble({
      config,
      driver: createR2Driver(env.BLOBS),
      fetch: (req) => fetch(req),
      // Which machine runs a Worker is not observable; /version reports the pull platform.
      runtime: { name: 'workerd', version: navigator.userAgent, os, arch: architecture },
      fills: { window: 8 * MiB, keepAlive },
      // A Worker is on the internet: writes need the writeToken, and the client is who
      // Cloudflare says connected.
      exposed: true,
      clientAddress: (req) => req.headers.get('cf-connecting-ip') ?? undefined,
    })
    built = { env, app }
    return app
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`edgepull: ${err.message}`)
    built = { env, error: err }
    return err
  }
}

/** Gives a declared-length body a FixedLengthStream, so workerd sends Content-Length. */
function withLength(req: Request, res: Response): Response {
  const length = Number(res.headers.get('content-length') ?? NaN)
  if (!res.body || req.method === 'HEAD' || !Number.isSafeInteger(length) || length < 0) return res
  const FixedLengthStream = (globalThis as { FixedLengthStream?: FixedLengthStreamConstructor })
    .FixedLengthStream!
  const fixed = new FixedLengthStream(length)
  res.body.pipeTo(fixed.writable).catch(() => {})
  const { status, statusText, headers } = res
  return new Response(fixed.readable, { status, statusText, headers })
}

export default {
  fetch(req: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    return requests.run(ctx, async () => {
      const app = appFor(env)
      if (app instanceof ConfigError) {
        const message = `edgepull is misconfigured: ${app.message}`
        return Response.json({ message }, { status: 500 })
      }
      return withLength(req, await app.fetch(req, env, ctx))
    })
  },
}
