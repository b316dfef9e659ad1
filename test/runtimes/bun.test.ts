/** The shared runtime cases on Bun: `npm run start:bun`'s command in its own process. */
import { expect, test } from 'bun:test'
import { runtimeCases } from './cases.ts'
import { startBunServer } from './servers.ts'

// Bun sends streamed bodies chunked; its entry keeps Content-Length only up to 1 MiB.
const traits = { bigBodiesKeepLength: false }

runtimeCases('bun', startBunServer, traits, (ctx) => {
  test('a request body over Bun’s default 128 MiB limit reaches the app (no 413)', async () => {
    const body = new Uint8Array(129 * 1024 * 1024) // zeros: a tar archive that ends at once
    const res = await fetch(`${ctx().server.url}/images/load`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-tar' },
      body,
    })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('does not contain a manifest.json')
  }, 30_000)
})
