/**
 * The `until` filter value as Docker reads it (api/types/time GetTimestamp, then
 * ParseTimestamps): a Go duration before now, an RFC 3339 date or time (in the daemon's zone,
 * UTC here, when it has none), or Unix seconds with an optional fraction.
 */

/** A value neither a duration, a date nor Unix seconds; Docker's wording. */
export class TimestampError extends Error {
  override name = 'TimestampError'
}

const NS = 1_000_000_000n
const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
}
const DURATION_PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y

/** Go's time.ParseDuration in nanoseconds (a float), or null when Go would refuse it. */
export function parseGoDuration(s: string): number | null {
  const sign = s[0] === '-' ? -1 : 1
  let i = s[0] === '-' || s[0] === '+' ? 1 : 0
  if (s.slice(i) === '0') return 0
  if (i === s.length) return null
  let total = 0
  while (i < s.length) {
    DURATION_PART.lastIndex = i
    const m = DURATION_PART.exec(s)
    if (!m) return null
    total += Number(m[1]) * UNITS[m[2]!]!
    i = DURATION_PART.lastIndex
  }
  return sign * total
}

// GetTimestamp's layouts, by how much time of day they carry (always four groups: hour,
// minute, second, fraction), with Go's layout text.
const PRECISIONS = {
  date: { time: '()()()()', layout: '2006-01-02' },
  hour: { time: 'T(\\d{2})()()()', layout: '2006-01-02T15' },
  minute: { time: 'T(\\d{2}):(\\d{2})()()', layout: '2006-01-02T15:04' },
  second: { time: 'T(\\d{2}):(\\d{2}):(\\d{2})()', layout: '2006-01-02T15:04:05' },
  nano: {
    time: 'T(\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,9}))?',
    layout: '2006-01-02T15:04:05.999999999',
  },
}
type Precision = keyof typeof PRECISIONS

/** Which layout GetTimestamp tries, from the characters it sees. */
function pickLayout(value: string): { precision: Precision; zoned: boolean } {
  const zoned = /[zZ+]/.test(value) || value.split('-').length - 1 === 3
  if (value.includes('.')) return { precision: 'nano', zoned }
  if (!value.includes('T')) return { precision: 'date', zoned }
  let colons = value.split(':').length - 1
  // A +hh:mm offset brings one colon of its own.
  if (zoned && !/[zZ]/.test(value) && colons > 0) colons--
  return { precision: colons === 0 ? 'hour' : colons === 1 ? 'minute' : 'second', zoned }
}

function parseLayout(value: string, precision: Precision, zoned: boolean): bigint | null {
  const zone = zoned ? '(Z|[+-]\\d{2}:\\d{2})' : '()'
  const date = '(\\d{4})-(\\d{2})-(\\d{2})'
  const m = new RegExp(`^${date}${PRECISIONS[precision].time}${zone}$`).exec(value)
  if (!m) return null
  const n = (i: number) => Number(m[i] || 0)
  const frac = m[7] ?? ''
  const z = m[8]
  const [y, mo, d, h, mi, s] = [n(1), n(2), n(3), n(4), n(5), n(6)]
  const wall = Date.UTC(y, mo - 1, d, h, mi, s)
  if (mo < 1 || mo > 12 || new Date(wall).getUTCDate() !== d) return null
  if (h > 23 || mi > 59 || s > 59) return null
  const sign = z?.[0] === '-' ? -1 : 1
  const offset = !z || z === 'Z' ? 0 : sign * (Number(z.slice(1, 3)) * 60 + Number(z.slice(4)))
  return BigInt(wall / 1000 - offset * 60) * NS + BigInt(frac.padEnd(9, '0') || '0')
}

/** `sec[.frac]` as ParseTimestamps reads it. */
function parseUnix(value: string): bigint | null {
  const m = /^([+-]?\d+)(?:\.(\d+))?$/.exec(value)
  if (!m) return null
  return BigInt(m[1]!) * NS + BigInt((m[2] ?? '').slice(0, 9).padEnd(9, '0') || '0')
}

/** The instant `value` names, in nanoseconds since the epoch; throws TimestampError. */
export function parseTimestamp(value: string, now: Date = new Date()): bigint {
  const d = value !== '0' ? parseGoDuration(value) : null
  // Docker keeps the whole seconds of now minus the duration.
  if (d !== null) return BigInt(Math.floor((now.getTime() * 1e6 - d) / 1e9)) * NS
  const { precision, zoned } = pickLayout(value)
  const t = parseLayout(value, precision, zoned)
  if (t !== null) return t
  const q = JSON.stringify
  if (value.includes('-')) {
    // Go's parse error, in its general form (Go names the exact element that failed).
    const layout = PRECISIONS[precision].layout + (zoned ? 'Z07:00' : '')
    throw new TimestampError(
      `parsing time ${q(value)} as ${q(layout)}: cannot parse ${q(value)} as ${q(layout)}`
    )
  }
  const unix = parseUnix(value)
  if (unix === null) {
    throw new TimestampError(`failed to parse value as time or duration: ${q(value)}`)
  }
  return unix
}
