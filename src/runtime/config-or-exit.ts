/**
 * Loads the config the way every long-running entry does: a ConfigError is printed (it names
 * the bad field) and the process exits 2, before anything listens.
 */
import { ConfigError, loadConfig, type Config } from '../config.ts'

export function configOrExit(
  env: Record<string, string | undefined>,
  readFile: (path: string) => string,
  exit: (code: number) => never
): Config {
  try {
    return loadConfig(env, readFile)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`edgepull: ${err.message}`)
    return exit(2)
  }
}
