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

  test('is beyond loopback: writes need the writeToken (EDGEPULL_WRITE_TOKEN), none without one', async () => {
    const prune = (e: WorkerEnv, token?: string) =>
      worker.fetch(
        new Request('http://edgepull/images/prune', {
          method: 'POST',
          headers: token ? { authorization: `Bearer ${token}` } : {},
        }),
        e,
        ctx
      )
    const open = await prune(env({}))
    expect(open.status).toBe(403)
    expect(((await open.json()) as { message: string }).message).toStartWith(
      'write routes are disabled: edgepull listens beyond loopback without a writeToken'
    )
    const tokened = env({ EDGEPULL_WRITE_TOKEN: 'w'.repeat(16) })
    expect(await (await prune(tokened, 'not-the-token')).json()).toEqual({
      message: 'the token sent is wrong: send Authorization: Bearer <writeToken>',
    })
    const short = await ping(env({ EDGEPULL_WRITE_TOKEN: 'short' }))
    expect(((await short.json()) as { message: string }).message).toContain('writeToken')
  })

  test('rate-limits per CF-Connecting-IP', async () => {
    const limited = env({ EDGEPULL_CONFIG_JSON: { rateLimit: { requestsPerSecond: 0.01, burst: 1 } } })
    const from = (ip: string) =>
      worker.fetch(new Request('http://edgepull/_ping', { headers: { 'cf-connecting-ip': ip } }), limited, ctx)
    expect((await from('198.51.100.1')).status).toBe(200)
    expect((await from('198.51.100.1')).status).toBe(429)
    expect((await from('198.51.100.2')).status).toBe(200)
  })
})
