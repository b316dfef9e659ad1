/**
 * Node.js entry: env → config, filesystem store, undici for upstream requests, and
 * @hono/node-server on 127.0.0.1 unless HOST says otherwise.
 */
import { serve } from '@hono/node-server'
import { readFileSync } from 'node:fs'
import { arch, platform } from 'node:os'
import { Agent, fetch as undiciFetch } from 'undici'
import { createFsDriver } from '../storage/fs.ts'
import { assemble, exposureWarning, isExposed, upstreamPolicy } from './assemble.ts'
import { configOrExit } from './config-or-exit.ts'
import { guardedLookup } from './dns.ts'
import { goArch, goOs } from './platform-names.ts'
import { readSwaggerUiAssets } from './docs-assets.ts'

interface NodeEnv {
  incoming: { socket: { remoteAddress?: string } }
}

async function main(): Promise<void> {
  const config = configOrExit(process.env, (p) => readFileSync(p, 'utf8'), process.exit)
  // 2 MiB reads: a warm GiB in 0.55–0.62 s instead of 0.50–0.71 s (bench/README.md).
  const driver = await createFsDriver(config.dataDir, { readChunk: 2 << 20 })
  // The network guard's DNS half: every socket checks the addresses it connects to.
  const lookup = guardedLookup(upstreamPolicy(config))
  const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000, connect: { lookup } })
  // undici's own Request class differs from Node's global one, so pass the parts.
  const fetch = (req: Request) =>
    undiciFetch(req.url, {
      method: req.method,
      headers: [...req.headers],
      body: req.body as any,
      signal: req.signal,
      redirect: req.redirect,
      duplex: 'half',
      dispatcher: agent,
    }) as unknown as Promise<Response>
  const app = assemble({
    config,
    driver,
    fetch,
    runtime: { name: 'node', version: process.version, os: goOs(platform()), arch: goArch(arch()) },
    docsAssets: readSwaggerUiAssets(),
    exposed: isExposed(config.host),
    // @hono/node-server hands each request's Node objects over as the app's env.
    clientAddress: (_req, env) => (env as NodeEnv).incoming.socket.remoteAddress,
  })
  const warning = exposureWarning(config, isExposed(config.host))
  if (warning) console.warn(warning)
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    console.log(`edgepull listening on http://${config.host}:${info.port} (store: ${config.dataDir})`)
  })
  // Image loads and pushes stream large bodies; Node's 5-minute request timeout would cut them.
  ;(server as unknown as { requestTimeout: number }).requestTimeout = 0
  const stop = () => server.close(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

await main()
