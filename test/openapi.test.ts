import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { openapiDocument } from '../scripts/openapi-document.ts'

test('openapi/engine.json is what the routes generate (run npm run openapi)', () => {
  const committed = JSON.parse(readFileSync(new URL('../openapi/engine.json', import.meta.url), 'utf8'))
  expect(committed).toEqual(JSON.parse(JSON.stringify(openapiDocument())))
})
