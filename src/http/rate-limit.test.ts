import { describe, expect, test } from 'bun:test'
import { TokenBuckets } from './rate-limit.ts'

describe('TokenBuckets', () => {
  test('a burst, then one request per refill, each client on its own', () => {
    let now = 0
    const buckets = new TokenBuckets({ requestsPerSecond: 2, burst: 3, now: () => now })
    expect([1, 2, 3, 4].map(() => buckets.take('a'))).toEqual([0, 0, 0, 1])
    expect(buckets.take('b')).toBe(0)
    now += 499
    expect(buckets.take('a')).toBe(1) // Retry-After never says 0
    now += 1
    expect(buckets.take('a')).toBe(0)
    now += 10_000 // idle: refilled to the burst, no further
    expect([1, 2, 3, 4].map(() => buckets.take('a'))).toEqual([0, 0, 0, 1])
  })

  test('Retry-After is the whole seconds until a token is back', () => {
    let now = 0
    const buckets = new TokenBuckets({ requestsPerSecond: 0.25, burst: 1, now: () => now })
    expect(buckets.take('a')).toBe(0)
    expect(buckets.take('a')).toBe(4)
    now += 2500
    expect(buckets.take('a')).toBe(2)
  })

  test('memory stays flat: the least recently seen client goes first', () => {
    const now = 0
    const buckets = new TokenBuckets({ requestsPerSecond: 1, burst: 1, maxClients: 3, now: () => now })
    for (const c of ['a', 'b', 'c']) buckets.take(c)
    buckets.take('a') // a is recent again, b is now the oldest
    buckets.take('d')
    expect(buckets.size).toBe(3)
    expect(buckets.take('b')).toBe(0) // forgotten, so a fresh bucket
    expect(buckets.take('a')).toBe(1) // remembered
    for (let i = 0; i < 10_000; i++) buckets.take(`client-${i}`)
    expect(buckets.size).toBe(3)
  })
})
