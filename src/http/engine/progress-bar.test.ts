import { describe, expect, test } from 'bun:test'
import { humanSize, progressBar } from './progress-bar.ts'

describe('humanSize (go-units HumanSize)', () => {
  test.each([
    [0, '0B'],
    [512, '512B'],
    [1000, '1kB'],
    [1500, '1.5kB'],
    [2152000, '2.152MB'],
    [32768, '32.77kB'],
    [1073741824, '1.074GB'],
    [999999, '1000kB'],
  ])('%d → %s', (n, want) => {
    expect(humanSize(n)).toBe(want)
  })
})

describe('progressBar (JSONProgress.String at width 200)', () => {
  test('nothing to show', () => {
    expect(progressBar(0, 0)).toBe('')
  })
  test('complete', () => {
    expect(progressBar(2152000, 2152000)).toBe(`[${'='.repeat(50)}>]  2.152MB/2.152MB`)
  })
  test('part way', () => {
    expect(progressBar(1000, 4000)).toBe(`[${'='.repeat(12)}>${' '.repeat(38)}]      1kB/4kB`)
  })
  test('unknown total shows only the count', () => {
    expect(progressBar(1500)).toBe('   1.5kB')
  })
})
