/**
 * Deno entry: env → config, filesystem store (Deno's node:fs), Deno's fetch, and Deno.serve
 * on 127.0.0.1 unless HOST says otherwise. `npm run start:deno` (scripts/start-deno.sh) runs
 * it with the narrowest permissions that work: network, the variables config.ts reads, reads of the
 * store, the config file and node_modules, writes to the store only.
 *
 * Deno's traps (../shared/notes/runtimes.md): every relative import in src carries its `.ts`
 * (Deno has no extension guessing without --sloppy-imports); a GET handler reused for HEAD
 * that opens a file leaks the descriptor, which the fs driver avoids by opening on first read.
 * Deno keeps a stream body's Content-Length, so nothing is buffered here.
 *
 * The `Deno` global is reached through `globalThis` with the slice used declared below, so
 * the project's tsc (which has no Deno types) and `deno check` both accept this file.
 */
import { createFsDriver } from '../storage/fs.ts'
import { assemble, exposureWarning, isExposed } from './assemble.ts'
import { configOrExit } from './config-or-exit.ts'
import { resolveAll } from './dns.ts'
import { readSwaggerUiAssets } from './docs-assets.ts'
import { configEnvNames } from './env-names.ts'
import { goArch, goOs } from './platform-names.ts'

/** The handler's second argument, passed to the app as its env. */
interface DenoServeInfo {
  remoteAddr: { hostname: string }
}

interface DenoServer {
  finished: Promise<void>
  shutdown(): Promise<void>
}

interface DenoApi {
  env: { get(name: string): string | undefined }
  readTextFileSync(path: string): string
  serve(
    options: { hostname: string; port: number; onListen(addr: { port: number }): void },
    handler: (req: Request, info: DenoServeInfo) => Response | Promise<Response>
  ): DenoServer
  addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void
  exit(code: number): never
  version: { deno: string }
  build: { os: string; arch: string }
}

const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno

async function main(): Promise<void> {
  // One by one: Deno.env.toObject() would need access to every variable.
  const env = Object.fromEntries(configEnvNames().map((name) => [name, Deno.env.get(name)]))
  const config = configOrExit(env, (p) => Deno.readTextFileSync(p), Deno.exit)
  const driver = await createFsDriver(config.dataDir)
  const app = assemble({
    config,
    driver,
    fetch: (req) => fetch(req),
    resolve: resolveAll,
    runtime: {
      name: 'deno',
      version: Deno.version.deno,
      os: goOs(Deno.build.os),
      arch: goArch(Deno.build.arch),
    },
    docsAssets: readSwaggerUiAssets(),
    exposed: isExposed(config.host),
    clientAddress: (_req, env) => (env as DenoServeInfo).remoteAddr.hostname,
  })
  const warning = exposureWarning(config, isExposed(config.host))
  if (warning) console.warn(warning)
  const { host, port, dataDir } = config
  const onListen = ({ port }: { port: number }) =>
    console.log(`edgepull listening on http://${host}:${port} (store: ${dataDir})`)
  const server = Deno.serve({ hostname: host, port, onListen }, (req, info) => app.fetch(req, info))
  // Stores commit by rename, so a stop that cuts a long pull short leaves nothing half-written.
  const stop = () => {
    setTimeout(() => Deno.exit(0), 2000)
    void server.shutdown().then(() => Deno.exit(0))
  }
  Deno.addSignalListener('SIGINT', stop)
  Deno.addSignalListener('SIGTERM', stop)
  await server.finished
}

await main()
