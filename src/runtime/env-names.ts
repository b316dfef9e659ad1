/**
 * The environment variables `loadConfig` reads, found by letting it read a recording env.
 * Deno grants variables one by one (`--allow-env=A,B`) and refuses `toObject()` without access
 * to all, so its entry asks for exactly these; a variable added to config.ts is picked up here
 * without a second list to keep in step (scripts/start-deno.sh's list is checked by a test).
 */
import { loadConfig } from '../config.ts'

/** `PORT`, `HOST`, `EDGEPULL_DATA`, `EDGEPULL_CONFIG`, … */
export function configEnvNames(): string[] {
  const seen = new Set<string>()
  const env = new Proxy({} as Record<string, string | undefined>, {
    get(_, key) {
      if (typeof key === 'string' && /^[A-Z][A-Z0-9_]*$/.test(key)) seen.add(key)
      return undefined
    },
  })
  try {
    loadConfig(env, () => '{}')
  } catch {
    // Only the names matter; an empty environment is a valid one anyway.
  }
  return [...seen]
}
