import { describe, expect, test } from 'bun:test'
import type { ExecutionContext } from 'hono'
import type { R2Bucket } from '../storage/r2-types.ts'
import worker, { type WorkerEnv } from './workers.ts'

// Requests that never reach the bucket run under Bun too; the rest is test/runtimes/workers.
const ctx: ExecutionContext = { waitUntil() {}, passThroughOnException() {}, props: {} }
const env = (vars: Partial<WorkerEnv>): WorkerEnv => ({ BLOBS: {} as R2Bucket, ...vars })
const ping = (e: WorkerEnv) => worker.fetch(new Request('http://edgepull/_ping'), e, ctx)

describe('the Workers entry', () => {
  test('takes the config from EDGEPULL_CONFIG_JSON, as text or as a [vars] table', async () => {
    const text = env({ EDGEPULL_CONFIG_JSON: '{"platform": "linux/arm64"}' })
    expect((await ping(text)).status).toBe(200)
    const table = env({ EDGEPULL_CONFIG_JSON: { platform: 'linux/arm64' } })
    const version = await worker.fetch(new Request('http://edgepull/version'), table, ctx)
    expect(await version.json()).toMatchObject({ Os: 'linux', Arch: 'arm64' })
    expect((await ping(env({}))).status).toBe(200)
  })

  test('answers every request with the config error while the config is bad', async () => {
    const bad = env({ EDGEPULL_CONFIG_JSON: '{"platform": 7}' })
    for (let i = 0; i < 2; i++) {
      const res = await ping(bad)
      expect(res.status).toBe(500)
      const { message } = (await res.json()) as { message: string }
      expect(message).toStartWith(
        'edgepull is misconfigured: invalid configuration in EDGEPULL_CONFIG_JSON'
      )
      expect(message).toContain('platform')
    }
  })

  test('checks EDGEPULL_TOKEN_SECRET like the config file field it overrides', async () => {
    const res = await ping(env({ EDGEPULL_TOKEN_SECRET: 'short' }))
    expect(res.status).toBe(500)
    expect(((await res.json()) as { message: string }).message).toContain('tokenSecret')
    const good = env({ EDGEPULL_TOKEN_SECRET: 'x'.repeat(32) })
    expect((await ping(good)).status).toBe(200)
  })
})
