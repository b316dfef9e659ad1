/**
 * The shared runtime cases on Cloudflare Workers: wrangler's bundle in Miniflare's workerd,
 * with local R2 in a temporary directory, as `npm run start:workers` runs it. Beside them,
 * what only Workers has: blobs in R2, and a fill that outlives its client through waitUntil.
 */
import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import type { Digest } from '../../src/oci/digest.ts'
import { blobKey } from '../../src/storage/keys.ts'
import { runtimeCases } from './cases.ts'
import { startWorkersServer } from './servers.ts'

const traits = { bigBodiesKeepLength: true }

runtimeCases('workers', startWorkersServer, traits, (ctx) => {
  const layerOf = async (i: number) => {
    const { tb } = ctx()
    const res = await fetch(`${tb.url}/v2/library/many/manifests/latest`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    })
    return ((await res.json()) as { layers: Array<{ digest: Digest; size: number }> }).layers[i]!
  }

  test("wrangler's bundle imports only what workerd provides: no undici, no node:fs", () => {
    const code = readFileSync(ctx().server.bundle!, 'utf8')
    const specifiers = /(?:from\s*|import\s*\(\s*|require\s*\(\s*)"([^"./][^"]*)"/g
    const imported = new Set([...code.matchAll(specifiers)].map((m) => m[1]))
    expect([...imported].sort()).toEqual(['node:async_hooks', 'node:crypto'])
    expect(code).not.toContain('undici')
    expect(code).not.toMatch(/node:fs|node:sqlite/)
  })

  test('blobs are stored in R2 under the key layout', async () => {
    const { server, v2 } = ctx()
    const layer = await layerOf(1)
    await (await v2(`/v2/library/many/blobs/${layer.digest}`)).arrayBuffer()
    const bucket = await server.bucket!()
    expect((await bucket.head(blobKey(layer.digest)))?.size).toBe(layer.size)
  }, 30_000)

  test('a fill outlives the client that left (waitUntil), and is then a hit', async () => {
    const { server, proxy, tb, v2 } = ctx()
    const layer = await layerOf(2)
    const path = `/v2/library/many/blobs/${layer.digest}`
    const bucket = await server.bucket!()
    // Paced, so the fill is still running when the client goes.
    proxy.bytesPerSecond = 100_000
    try {
      const res = await v2(path)
      const reader = res.body!.getReader()
      expect((await reader.read()).done).toBe(false)
      await reader.cancel()
      let stored = null
      for (let i = 0; i < 200 && !stored; i++) {
        await Bun.sleep(100)
        stored = await bucket.head(blobKey(layer.digest))
      }
      expect(stored?.size).toBe(layer.size)
    } finally {
      proxy.bytesPerSecond = 0
    }
    const hit = await v2(path)
    const expected = new Uint8Array(await (await fetch(`${tb.url}${path}`)).arrayBuffer())
    expect(new Uint8Array(await hit.arrayBuffer())).toEqual(expected)
    expect(proxy.count('GET', path)).toBe(1)
  }, 60_000)
})
