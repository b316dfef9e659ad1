import { describe, expect, test } from 'bun:test'
import { nowRfc3339Nano, parseGoTime, unixSeconds } from './time.ts'
import { parseGoDuration, parseTimestamp, TimestampError } from './timestamp.ts'

describe('parseGoTime (config `created`, printed back with RFC3339Nano)', () => {
  test('fractions lose trailing zeros, a zero offset prints Z, other offsets stay', () => {
    const cases: [string, string][] = [
      ['2023-11-14T22:13:20Z', '2023-11-14T22:13:20Z'],
      ['2024-01-27T00:30:56.150769184Z', '2024-01-27T00:30:56.150769184Z'],
      ['2024-01-27T00:30:56.100Z', '2024-01-27T00:30:56.1Z'],
      ['2024-01-27T00:30:56.000000000Z', '2024-01-27T00:30:56Z'],
      ['2024-01-27T01:30:56+01:00', '2024-01-27T01:30:56+01:00'],
      ['2024-01-27t00:30:56+00:00', '2024-01-27T00:30:56Z'],
    ]
    for (const [input, printed] of cases) expect(parseGoTime(input)?.rfc3339Nano).toBe(printed)
  })

  test('nanoseconds are exact and offsets are applied', () => {
    expect(parseGoTime('1970-01-01T00:00:01.000000002Z')?.ns).toBe(1_000_000_002n)
    expect(parseGoTime('1970-01-01T01:00:00+01:00')?.ns).toBe(0n)
    expect(unixSeconds(parseGoTime('2023-11-14T22:13:20.9Z')!.ns)).toBe(1700000000)
    expect(unixSeconds(-1n)).toBe(-1)
  })

  test('what Go cannot parse is no time at all', () => {
    for (const bad of [undefined, '', '2023-11-14', '2023-13-01T00:00:00Z', '2023-02-30T00:00:00Z', 'x']) {
      expect(parseGoTime(bad)).toBeNull()
    }
  })

  test('now, as Go prints it', () => {
    expect(nowRfc3339Nano(new Date('2024-05-01T10:20:30.120Z'))).toBe('2024-05-01T10:20:30.12Z')
    expect(nowRfc3339Nano(new Date('2024-05-01T10:20:30.000Z'))).toBe('2024-05-01T10:20:30Z')
  })
})

describe('until values (GetTimestamp + ParseTimestamps)', () => {
  const now = new Date('2024-01-02T00:00:00.500Z')
  const at = (s: string) => parseTimestamp(s, now)
  const sec = (n: number) => BigInt(n) * 1_000_000_000n

  test('Go durations count back from now, in whole seconds', () => {
    expect(parseGoDuration('1h30m')).toBe(5400e9)
    expect(parseGoDuration('1.5h')).toBe(5400e9)
    expect(parseGoDuration('-10m')).toBe(-600e9)
    expect(parseGoDuration('300ms')).toBe(300e6)
    for (const bad of ['', '10', 'h', '1d', '1h ']) expect(parseGoDuration(bad)).toBeNull()
    expect(at('24h')).toBe(sec(Date.parse('2024-01-01T00:00:00Z') / 1000))
  })

  test('dates and times, zoned or in the daemon zone (UTC)', () => {
    const t = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n
    expect(at('2023-11-14')).toBe(t('2023-11-14T00:00:00Z'))
    expect(at('2023-11-14T22')).toBe(t('2023-11-14T22:00:00Z'))
    expect(at('2023-11-14T22:13')).toBe(t('2023-11-14T22:13:00Z'))
    expect(at('2023-11-14T22:13:20')).toBe(t('2023-11-14T22:13:20Z'))
    expect(at('2023-11-14T22:13:20Z')).toBe(t('2023-11-14T22:13:20Z'))
    expect(at('2023-11-14T23:13:20+01:00')).toBe(t('2023-11-14T22:13:20Z'))
    expect(at('2023-11-14T22:13:20.5Z')).toBe(t('2023-11-14T22:13:20.500Z'))
  })

  test('Unix seconds, with a fraction', () => {
    expect(at('0')).toBe(0n)
    expect(at('1700000000')).toBe(sec(1700000000))
    expect(at('1700000000.25')).toBe(sec(1700000000) + 250_000_000n)
  })

  test('anything else fails in Docker’s words', () => {
    expect(() => at('yesterday')).toThrow(new TimestampError('failed to parse value as time or duration: "yesterday"'))
    expect(() => at('2023-13-45')).toThrow(TimestampError)
  })
})
