/**
 * Prometheus' text exposition format (version 0.0.4), just what edgepull needs: counter and
 * gauge families with labels, rendered with HELP and TYPE lines.
 */

/** Label names to values. */
export type Labels = Record<string, string>

/** The content type Prometheus expects for this format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

const escapeValue = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')

/** One metric family: a name, its type and help, and a value per label set. */
export class MetricFamily {
  private readonly series = new Map<string, { labels: Labels; value: number }>()

  constructor(
    readonly name: string,
    readonly type: 'counter' | 'gauge',
    readonly help: string
  ) {}

  /** Adds `by` to the series for `labels` (created at 0). */
  add(labels: Labels = {}, by = 1): void {
    const key = keyOf(labels)
    const s = this.series.get(key)
    if (s) s.value += by
    else this.series.set(key, { labels, value: by })
  }

  /** Sets the series for `labels` (gauges). */
  set(labels: Labels, value: number): void {
    this.series.set(keyOf(labels), { labels, value })
  }

  /** The value for `labels`, 0 when never touched (tests). */
  get(labels: Labels = {}): number {
    return this.series.get(keyOf(labels))?.value ?? 0
  }

  /** The family in the text format; a family without series shows 0 when it takes no labels. */
  render(): string {
    const lines = [
      `# HELP ${this.name} ${escapeHelp(this.help)}`,
      `# TYPE ${this.name} ${this.type}`,
    ]
    const series = [...this.series.values()]
    if (series.length === 0) series.push({ labels: {}, value: 0 })
    for (const { labels, value } of series) {
      const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeValue(v)}"`)
      const set = pairs.length > 0 ? `{${pairs.join(',')}}` : ''
      lines.push(`${this.name}${set} ${Number.isFinite(value) ? value : 0}`)
    }
    return lines.join('\n') + '\n'
  }
}

const keyOf = (labels: Labels): string =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
