/**
 * `npm run start:workers`: the Worker on loopback, as a new user tries it before deploying.
 * The bundle is wrangler's own (`deploy --dry-run`), run by Miniflare with a local R2 bucket
 * in a temporary directory that is removed on exit, so each start begins with an empty cache.
 * PORT and HOST choose where it listens (127.0.0.1:5000 by default, as the other runtimes);
 * EDGEPULL_CONFIG names the config file, whose content becomes the EDGEPULL_CONFIG_JSON var
 * (without it, wrangler.toml's [vars] value); EDGEPULL_TOKEN_SECRET and EDGEPULL_WRITE_TOKEN
 * become the secrets of those names. EDGEPULL_DATA has no meaning here. A Worker counts as
 * listening beyond loopback: its write routes need a writeToken.
 */
import { readFileSync } from 'node:fs'
import { ConfigError, loadConfig } from '../src/config.ts'
import { exposureWarning } from '../src/runtime/assemble.ts'
import { startLocalWorker } from './workers-local.ts'

async function main(): Promise<void> {
  let config
  try {
    // Checked here too, so a bad file is reported at once rather than on the first request.
    config = loadConfig(process.env, (p) => readFileSync(p, 'utf8'))
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`edgepull: ${err.message}`)
    process.exit(2)
  }
  if (process.env.EDGEPULL_DATA) {
    console.error('edgepull: EDGEPULL_DATA is ignored by the Worker: blobs go to local R2')
  }
  const configJson = config.configPath && readFileSync(config.configPath, 'utf8')
  console.log('edgepull: building the Worker with wrangler…')
  const { host, port } = config
  const secrets: Record<string, string> = {}
  for (const name of ['EDGEPULL_TOKEN_SECRET', 'EDGEPULL_WRITE_TOKEN']) {
    const value = process.env[name]
    if (value) secrets[name] = value
  }
  const warning = exposureWarning(config, true)
  if (warning) console.warn(warning)
  const starting = startLocalWorker({ host, port, configJson, secrets, verbose: true })
  // Handlers go in before the build: Ctrl-C during it must still remove the temp directory
  // (wrangler, in the same process group, gets the signal too and the start fails cleanly).
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    const worker = await starting.catch(() => undefined)
    await worker?.stop()
    process.exit(0)
  }
  // `on`, not `once`: a second Ctrl-C must not cut the clean-up short.
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  const worker = await starting.catch((err: unknown) => {
    if (stopping) return new Promise<never>(() => {})
    console.error(`edgepull: ${(err as Error).message}`)
    process.exit(1)
  })
  console.log(`edgepull (Workers, local R2) listening on ${worker.url}`)
}

await main()
