/**
 * Writes the OpenAPI document generated from the routes' zod schemas to openapi/engine.json
 * (`npm run openapi`), or with `--check` fails when the committed file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { openapiDocument } from './openapi-document.ts'

const path = new URL('../openapi/engine.json', import.meta.url)
const text = `${JSON.stringify(openapiDocument(), null, 2)}\n`
if (process.argv.includes('--check')) {
  if (readFileSync(path, 'utf8') !== text) {
    console.error('openapi/engine.json is stale: run npm run openapi')
    process.exit(1)
  }
} else {
  writeFileSync(path, text)
  console.log(`wrote ${path.pathname}`)
}
