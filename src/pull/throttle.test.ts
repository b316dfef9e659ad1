import { expect, test } from 'bun:test'
import { progressThrottle } from './throttle.ts'

test('reports at most every 100 ms, every 1% or 512 KiB, and the final byte once', () => {
  let t = 0
  const total = 10 * 1024 * 1024
  const report = progressThrottle(total, () => t)
  const seen: number[] = []
  for (let n = 64 * 1024; n <= total; n += 64 * 1024) {
    t += 20
    if (report(n)) seen.push(n)
  }
  expect(seen.at(-1)).toBe(total)
  expect(report(total)).toBe(false)
  // 160 chunks of 20 ms = 3.2 s → no more than one report per 100 ms plus the last
  expect(seen.length).toBeLessThanOrEqual(33)
  expect(seen.length).toBeGreaterThan(10)
})

test('small blobs report on 1% steps', () => {
  let t = 0
  const report = progressThrottle(1000, () => (t += 200))
  expect(report(5)).toBe(false)
  expect(report(10)).toBe(true)
  expect(report(1000)).toBe(true)
})
