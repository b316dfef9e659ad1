/** The Engine API document, generated from an app built with inert dependencies. */
import { parseFileConfig } from '../src/config.ts'
import { OPENAPI_DOCUMENT } from '../src/http/app.ts'
import { assemble } from '../src/runtime/assemble.ts'
import { createMemoryDriver } from '../src/storage/memory.ts'

export function openapiDocument(): object {
  const app = assemble({
    config: parseFileConfig('{}'),
    driver: createMemoryDriver(),
    fetch: () => Promise.reject(new Error('not used')),
    runtime: { name: 'openapi', version: '0', os: 'linux', arch: 'amd64' },
  })
  const doc = app.getOpenAPI31Document(OPENAPI_DOCUMENT)
  return { ...doc, paths: templatePaths(doc.paths ?? {}) }
}

/** `/images/{name{.+}}/json` (Hono's multi-segment pattern) → `/images/{name}/json`. */
export function templatePaths<T>(paths: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(paths).map(([path, item]) => [path.replace(/\{(\w+)\{[^}]*\}\}/g, '{$1}'), item])
  )
}
