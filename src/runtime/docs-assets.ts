/**
 * Swagger UI's files for `/docs`, read from the installed swagger-ui-dist package. Runtimes
 * with a filesystem and node_modules (Node, Bun, Deno with npm) share this; a Workers build
 * inlines the same two files instead.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { DocsAssets } from '../http/docs.ts'

/** The bundle and stylesheet, or undefined (and `/docs` explains) when the package is absent. */
export function readSwaggerUiAssets(): DocsAssets | undefined {
  let dir: string
  try {
    dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
  } catch {
    return undefined
  }
  return {
    script: readFileSync(join(dir, 'swagger-ui-bundle.js'), 'utf8'),
    css: readFileSync(join(dir, 'swagger-ui.css'), 'utf8'),
  }
}
