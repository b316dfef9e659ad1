/**
 * Bun entry: env → config, filesystem store (node:fs works under Bun), Bun's own fetch, and
 * Bun.serve on 127.0.0.1 unless HOST says otherwise. Run it with `bun src/runtime/bun.ts`.
 *
 * Bun's traps (../shared/notes/runtimes.md), and what this file does about them:
 * - Bun.serve cuts a request after 10 s without bytes: a pull's NDJSON stream waits longer
 *   than that on a slow layer, so `idleTimeout: 0` turns the cut off.
 * - Request bodies above 128 MiB get a 413: `docker load` and `docker import` send archives
 *   bigger than that, so the limit is raised to 64 GiB.
 * - A JS-built stream body loses its Content-Length (sent chunked; oven-sh/bun#10507). Small
 *   bodies (manifests, configs) are buffered so they keep it; big blobs stay streamed and go
 *   out chunked, which clients accept (dockerd and containerd only lose a progress bar).
 *   HEAD answers have no body and keep their Content-Length.
 * - A GET handler reused for HEAD that opens a file crashes Bun when the handle is collected:
 *   the fs driver opens files only on the first read, and /v2 answers HEAD without a body.
 */
import { readFileSync } from 'node:fs'
import { createFsDriver } from '../storage/fs.ts'
import { assemble, exposureWarning, isExposed } from './assemble.ts'
import { configOrExit } from './config-or-exit.ts'
import { resolveAll } from './dns.ts'
import { readSwaggerUiAssets } from './docs-assets.ts'
import { goArch, goOs } from './platform-names.ts'

/** Bodies up to this size are buffered so Bun sends their Content-Length. */
const BUFFER_BELOW = 1 << 20
/** Bun's request body limit, raised from 128 MiB; a blob may be several GiB. */
const MAX_BODY = 64 * 1024 ** 3

/** Buffers a small streamed body that declares its length, so Bun keeps the header. */
async function withLength(res: Response): Promise<Response> {
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (!res.body || !(declared >= 0 && declared <= BUFFER_BELOW)) return res
  const { status, statusText, headers } = res
  return new Response(await res.arrayBuffer(), { status, statusText, headers })
}

async function main(): Promise<void> {
  const config = configOrExit(process.env, (p) => readFileSync(p, 'utf8'), process.exit)
  const driver = await createFsDriver(config.dataDir)
  const app = assemble({
    config,
    driver,
    fetch: (req) => fetch(req),
    resolve: resolveAll,
    runtime: {
      name: 'bun',
      version: Bun.version,
      os: goOs(process.platform),
      arch: goArch(process.arch),
    },
    docsAssets: readSwaggerUiAssets(),
    exposed: isExposed(config.host),
    // The app's env is the server (as Hono's Bun adapter has it), which knows each peer.
    clientAddress: (req, env) => (env as Bun.Server<undefined>).requestIP(req)?.address,
  })
  const warning = exposureWarning(config, isExposed(config.host))
  if (warning) console.warn(warning)
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    idleTimeout: 0,
    maxRequestBodySize: MAX_BODY,
    // Errors are the app's to answer; Bun's development page would show stack traces.
    development: false,
    fetch: async (req, server) => withLength(await app.fetch(req, server)),
  })
  const { host, dataDir } = config
  console.log(`edgepull listening on http://${host}:${server.port} (store: ${dataDir})`)
  const stop = async () => {
    await server.stop(true)
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

await main()
