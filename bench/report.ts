/**
 * The benchmark's markdown: a ratio table against issue 6's targets (one column per edgepull
 * runtime, distribution's own ratios beside them for scale) and the raw figures behind it.
 */
import type { ServerResult } from './scenarios.ts'

/** What the upstream and skopeo measured in the same run. */
export interface Baselines {
  /** Single GETs straight from the upstream, seconds. */
  upstream: number[]
  /** Eight clients at once straight from the (counting) upstream, and the GETs it counted. */
  eightDirect?: number
  eightDirectGets?: number
  skopeo: number[]
  skopeoRss?: number
  upstreamRss: number
}

/** Median, or NaN for no samples. */
export const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const fx = (n: number | undefined, d = 2) =>
  n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d)
const peak = (r: ServerResult) => {
  const all = [r.rss.single, r.rss.eight, r.rss.pull].filter((x): x is number => x !== undefined)
  return all.length ? Math.max(...all) : undefined
}

interface Row {
  measure: string
  target: string
  /** The value for a server, and whether it meets the target (undefined: no target). */
  value(r: ServerResult): Cell
}

interface Cell {
  v: number | undefined
  ok?: boolean
  /** Shown instead of `v` as a ratio. */
  text?: string
}

const at = (v: number | undefined, test?: (v: number) => boolean): Cell => ({
  v,
  ok: v === undefined || !Number.isFinite(v) || !test ? undefined : test(v),
})

const tr = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`

function rows(b: Baselines, dist: ServerResult | undefined): Row[] {
  const up = median(b.upstream)
  /** A ratio against distribution, for the other servers only. */
  const vs = (r: ServerResult, f: (d: ServerResult) => number | undefined) =>
    dist && r !== dist ? f(dist) : undefined
  const eightVsDist = (r: ServerResult) =>
    vs(r, (d) => (d.eight && r.eight ? r.eight.seconds / d.eight.seconds : undefined))
  const rps = (r: ServerResult, k: 'rpsDigest' | 'rpsTag') =>
    vs(r, (d) => (d[k] && r[k] ? r[k]! / d[k]! : undefined))
  return [
    { measure: 'warm GET, speed vs upstream', target: '≥ 0.9×',
      value: (r) => at(up / median(r.warm), (v) => v >= 0.9) },
    { measure: 'warm GET, speed vs distribution', target: '≥ 1.8×',
      value: (r) => at(vs(r, (d) => median(d.warm) / median(r.warm)), (v) => v >= 1.8) },
    { measure: 'cold GET, speed vs upstream', target: '≥ 0.8×',
      value: (r) => at(up / median(r.cold), (v) => v >= 0.8) },
    { measure: 'cold GET, speed vs distribution', target: '–',
      value: (r) => at(vs(r, (d) => median(d.cold) / median(r.cold))) },
    { measure: '8 cold clients: upstream GETs of the blob', target: '1',
      value: (r) => ({ ...at(r.eight?.upstreamGets, (v) => v === 1), text: fx(r.eight?.upstreamGets, 0) }) },
    { measure: '8 cold clients: wall time vs distribution', target: '≤ 0.5×',
      value: (r) => at(eightVsDist(r), (v) => v <= 0.5) },
    { measure: '8 cold clients: wall time vs 8 straight to upstream', target: '–',
      value: (r) => at(r.eight && b.eightDirect ? r.eight.seconds / b.eightDirect : undefined) },
    { measure: 'Engine API pull, speed vs skopeo copy', target: '≥ 1.0×',
      value: (r) => at(r.pull.length ? median(b.skopeo) / median(r.pull) : undefined, (v) => v >= 1) },
    { measure: 'cached manifest req/s (by digest) vs distribution', target: '≥ 1.0×',
      value: (r) => at(rps(r, 'rpsDigest'), (v) => v >= 1) },
    { measure: 'manifest req/s by tag vs distribution', target: '–',
      value: (r) => at(rps(r, 'rpsTag')) },
    { measure: 'peak RSS, MiB (largest over scenarios)', target: '≤ 150',
      value: (r) => ({ ...at(peak(r), (v) => v <= 150), text: fx(peak(r), 0) }) },
  ]
}

const cell = ({ v, ok, text }: Cell) => {
  const shown = text ?? (v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(2)}×`)
  return ok === undefined ? shown : `${shown} ${ok ? '✅' : '❌'}`
}

/** The ratio table: rows are issue 6's measures, columns the servers. */
export function ratioTable(results: ServerResult[], b: Baselines): string {
  const dist = results.find((r) => r.name === 'distribution')
  const cols = [...results.filter((r) => r !== dist), ...(dist ? [dist] : [])]
  const head = ['measure (ratios from one run)', 'target', ...cols.map((r) => r.name)]
  const lines = [tr(head), tr(head.map(() => '---'))]
  for (const row of rows(b, dist)) {
    lines.push(tr([row.measure, row.target, ...cols.map((r) => cell(row.value(r)))]))
  }
  return lines.join('\n')
}

const mbps = (bytes: number, s: number) => (Number.isFinite(s) ? (bytes / s / 1e6).toFixed(0) : '–')
const spread = (xs: number[]) =>
  xs.length ? `${fx(median(xs))} (${fx(Math.min(...xs))}–${fx(Math.max(...xs))})` : '–'

/** The figures behind the ratios: seconds as median (min–max), MB/s, req/s, MiB. */
export function rawTable(results: ServerResult[], b: Baselines, blobSize: number): string {
  const head = ['server', 'cold GET s', 'cold MB/s', 'warm GET s', 'warm MB/s', '8 clients s',
    'upstream GETs (8 clients)', 'manifest req/s digest / tag', 'Engine pull s',
    'peak RSS MiB single / 8 / pull']
  const lines = [tr(head), tr(head.map(() => '---'))]
  const up = mbps(blobSize, median(b.upstream))
  lines.push(tr(['upstream (distribution, direct)', spread(b.upstream), up, 'same', up,
    fx(b.eightDirect), b.eightDirectGets ?? '–', '–', '–', fx(b.upstreamRss, 0)]))
  for (const r of results) {
    lines.push(tr([r.name, spread(r.cold), mbps(blobSize, median(r.cold)), spread(r.warm),
      mbps(blobSize, median(r.warm)), fx(r.eight?.seconds), r.eight?.upstreamGets ?? '–',
      `${fx(r.rpsDigest, 0)} / ${fx(r.rpsTag, 0)}`, spread(r.pull),
      [r.rss.single, r.rss.eight, r.rss.pull].map((x) => fx(x, 0)).join(' / ')]))
  }
  lines.push(tr(['skopeo copy docker:// → dir:', '–', '–', '–', '–', '–', '–', '–',
    spread(b.skopeo), fx(b.skopeoRss, 0)]))
  return lines.join('\n')
}
