/**
 * Times as moby handles them: image configs carry RFC 3339 strings that Go parses into a
 * time.Time with nanoseconds and its own offset, and prints back with RFC3339Nano. We keep
 * nanoseconds as a bigint so `before`/`since`/`until` compare exactly as Go does.
 */

/** A parsed instant: nanoseconds since the epoch, plus the text Go would print for it. */
export interface GoTime {
  readonly ns: bigint
  /** time.Format(time.RFC3339Nano): wall clock as given, fraction without trailing zeros. */
  readonly rfc3339Nano: string
}

const NS_PER_S = 1_000_000_000n
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/

/** Go's zero time.Time, as RFC3339Nano prints it (an image never tagged locally). */
export const ZERO_TIME = '0001-01-01T00:00:00Z'

/** Parses an RFC 3339 timestamp the way Go's time.Time unmarshals one; null when Go would fail. */
export function parseGoTime(s: string | undefined): GoTime | null {
  const m = s === undefined ? null : RFC3339.exec(s)
  if (!m) return null
  const [, y, mo, d, h, mi, sec, frac = '', zone] = m as unknown as string[]
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1 || day > daysIn(Number(y), month)) return null
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return null
  const offset = zone === 'Z' || zone === 'z' ? 0 : zoneMinutes(zone!)
  const wall = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(sec))
  const nanos = BigInt((frac.slice(0, 9) || '0').padEnd(9, '0'))
  const ns = BigInt(wall / 1000 - offset * 60) * NS_PER_S + nanos
  const fraction = frac.slice(0, 9).replace(/0+$/, '')
  const printed = `${y}-${mo}-${d}T${h}:${mi}:${sec}${fraction ? `.${fraction}` : ''}`
  return { ns, rfc3339Nano: printed + (offset === 0 ? 'Z' : zone!) }
}

/** time.Time.Unix(): whole seconds, rounded down. */
export function unixSeconds(ns: bigint): number {
  const q = ns / NS_PER_S
  return Number(ns < 0n && q * NS_PER_S !== ns ? q - 1n : q)
}

/** Nanoseconds since the epoch of a JS date (millisecond precision). */
export const dateNanos = (d: Date): bigint => BigInt(d.getTime()) * 1_000_000n

/** time.Now().Format(time.RFC3339Nano) in UTC; JS clocks stop at milliseconds. */
export function nowRfc3339Nano(now = new Date()): string {
  return now.toISOString().replace(/\.?0+Z$/, 'Z')
}

function zoneMinutes(zone: string): number {
  const sign = zone.startsWith('-') ? -1 : 1
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)))
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}
