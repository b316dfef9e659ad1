import { describe, expect, test } from 'bun:test'
import {
  backoffDelay,
  delayAfterResponse,
  isRetryableStatus,
  parseRetryAfter,
  retryPolicy,
} from './retry.ts'

describe('retry policy', () => {
  test('defaults and clamping', () => {
    expect(retryPolicy()).toEqual({ attempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 })
    expect(retryPolicy({ attempts: 0, baseDelayMs: -1 }).attempts).toBe(1)
  })

  test('which statuses are retried', () => {
    for (const s of [408, 429, 500, 502, 503, 504, 599]) expect(isRetryableStatus(s)).toBe(true)
    for (const s of [400, 401, 403, 404, 416, 501, 505]) expect(isRetryableStatus(s)).toBe(false)
  })

  test('backoff doubles, jitters between half and all of it, and is capped', () => {
    const p = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1_000 })
    expect([1, 2, 3].map((n) => backoffDelay(p, n, () => 0))).toEqual([50, 100, 200])
    expect([1, 2, 3].map((n) => backoffDelay(p, n, () => 1))).toEqual([100, 200, 400])
    expect(backoffDelay(p, 10, () => 1)).toBe(1_000)
  })

  test('Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('Sat, 28 Nov 2026 08:00:00 GMT')
    expect(parseRetryAfter('7', now)).toBe(7_000)
    expect(parseRetryAfter('Sat, 28 Nov 2026 08:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Sat, 28 Nov 2026 07:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(null, now)).toBeUndefined()
  })

  test('delay after a response: honoured, capped, or given up', () => {
    const p = retryPolicy({ attempts: 3, baseDelayMs: 100, maxDelayMs: 5_000 })
    const res = (status: number, retryAfter?: string) =>
      new Response(null, { status, headers: retryAfter ? { 'retry-after': retryAfter } : {} })
    expect(delayAfterResponse(p, res(429, '2'), 1)).toBe(2_000)
    expect(delayAfterResponse(p, res(429, '60'), 1)).toBeUndefined()
    expect(delayAfterResponse(p, res(503), 1)).toBeGreaterThanOrEqual(50)
    expect(delayAfterResponse(p, res(503), 3)).toBeUndefined()
    expect(delayAfterResponse(p, res(404), 1)).toBeUndefined()
  })
})
