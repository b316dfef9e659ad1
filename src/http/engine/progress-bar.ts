/**
 * The pre-rendered `progress` string moby ≤28 sends beside progressDetail (JSONProgress.String
 * with the daemon's default width of 200, so the bar box is always drawn).
 */

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB']

/** go-units HumanSize: decimal units, 4 significant digits (`%.4g`), e.g. `2.152MB`. */
export function humanSize(n: number): string {
  let i = 0
  while (n >= 1000 && i < UNITS.length - 1) {
    n /= 1000
    i++
  }
  return `${formatG4(n)}${UNITS[i]}`
}

/** Go's `%.4g` for the non-negative values sizes produce. */
function formatG4(n: number): string {
  if (n === 0) return '0'
  const exp = Math.floor(Math.log10(n))
  if (exp < -4 || exp >= 4) {
    return n.toExponential(3).replace(/\.?0+e/, 'e').replace(/e([+-])(\d)$/, 'e$10$2')
  }
  return String(Number(n.toPrecision(4)))
}

export function progressBar(current: number, total?: number): string {
  if (current <= 0 && (total ?? 0) <= 0) return ''
  if (total === undefined || total <= 0) return humanSize(current).padStart(8)
  const filled = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2))
  const bar = `[${'='.repeat(filled)}>${' '.repeat(Math.max(0, 50 - filled))}] `
  const numbers =
    current > total
      ? humanSize(current).padStart(8)
      : `${humanSize(current).padStart(8)}/${humanSize(total)}`
  return bar + numbers
}
