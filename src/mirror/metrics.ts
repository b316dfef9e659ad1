/**
 * `/metrics`: counters fed by the mirror's observer seam (src/mirror/events.ts) and by the
 * fills it shares with the Engine API's pulls, so bytes fetched upstream include pulls
 * through /images/create. Per process (per isolate on Workers), reset on restart, as
 * Prometheus counters are. Repository names are never labels: they would grow without bound
 * and would tell anyone who can scrape which private repositories exist.
 */
import type { MirrorEvent, MirrorObserver, MirrorOutcome } from './events.ts'
import { MetricFamily } from './prometheus.ts'

/** The metrics registry. */
export interface Metrics {
  /** The observer to hand to the mirror (and, wrapped as `fill` events, to `Fills`). */
  observe: MirrorObserver
  /** Adds families owned elsewhere (eviction's) to the exposition. */
  register(...families: MetricFamily[]): void
  /** The exposition, in Prometheus' text format. */
  render(): string
  /** The mirror's own families, by short name (tests, benchmarks). */
  readonly families: MirrorFamilies
}

/** The families the mirror's events feed. */
export interface MirrorFamilies {
  requests: MetricFamily
  hits: MetricFamily
  misses: MetricFamily
  served: MetricFamily
  serving: MetricFamily
  fetched: MetricFamily
  upstreamErrors: MetricFamily
  fillsInFlight: MetricFamily
  fills: MetricFamily
  tokens: MetricFamily
}

const HITS = new Set<MirrorOutcome>(['hit', 'revalidated', 'stale'])
const MISSES = new Set<MirrorOutcome>(['miss', 'shared'])

/** Creates the registry. */
export function createMetrics(): Metrics {
  const f: MirrorFamilies = {
    requests: new MetricFamily(
      'edgepull_mirror_requests_total',
      'counter',
      '/v2 requests answered, by kind, method, outcome (error when none was chosen) and status.'
    ),
    hits: new MetricFamily(
      'edgepull_mirror_cache_hits_total',
      'counter',
      '/v2 requests answered from the cache (hit, revalidated or stale), by kind.'
    ),
    misses: new MetricFamily(
      'edgepull_mirror_cache_misses_total',
      'counter',
      '/v2 requests that needed an upstream fetch (their own or one in flight), by kind.'
    ),
    served: new MetricFamily(
      'edgepull_mirror_served_bytes_total',
      'counter',
      'Body bytes that reached /v2 clients, by kind.'
    ),
    serving: new MetricFamily(
      'edgepull_mirror_serving',
      'gauge',
      'Blob bodies flowing to /v2 clients now.'
    ),
    fetched: new MetricFamily(
      'edgepull_upstream_fetched_bytes_total',
      'counter',
      'Bytes received from upstream: blobs (for /v2 and /images/create alike), mirror manifests.'
    ),
    upstreamErrors: new MetricFamily(
      'edgepull_upstream_errors_total',
      'counter',
      'Failed upstream exchanges of the mirror, by status (none: no response) and error code.'
    ),
    fillsInFlight: new MetricFamily(
      'edgepull_fills_in_flight',
      'gauge',
      'Blob downloads from upstream in progress (shared by /v2 and /images/create).'
    ),
    fills: new MetricFamily(
      'edgepull_fills_total',
      'counter',
      'Blob downloads from upstream that ended, by result (stored or failed).'
    ),
    tokens: new MetricFamily(
      'edgepull_mirror_tokens_issued_total',
      'counter',
      'Tokens issued at /v2/token, anonymous or carrying credentials.'
    ),
  }
  const extra: MetricFamily[] = []

  const observe = (e: MirrorEvent): void => {
    switch (e.type) {
      case 'request': {
        const outcome = e.outcome ?? 'error'
        f.requests.add({ kind: e.kind, method: e.method, outcome, status: String(e.status) })
        if (e.outcome && HITS.has(e.outcome)) f.hits.add({ kind: e.kind })
        if (e.outcome && MISSES.has(e.outcome)) f.misses.add({ kind: e.kind })
        return
      }
      case 'serving':
        f.serving.add({}, 1)
        return
      case 'served':
        f.served.add({ kind: e.kind }, e.bytes)
        if (e.kind === 'blob') f.serving.add({}, -1)
        return
      case 'fetched':
        f.fetched.add({ kind: e.kind }, e.bytes)
        return
      case 'upstream-error':
        f.upstreamErrors.add({ status: String(e.status ?? 'none'), code: e.code ?? 'none' })
        return
      case 'token':
        f.tokens.add({ kind: e.anonymous ? 'anonymous' : 'credentials' })
        return
      case 'fill':
        if (e.event.type === 'start') {
          f.fillsInFlight.add({}, 1)
        } else {
          f.fillsInFlight.add({}, -1)
          f.fetched.add({ kind: 'blob' }, e.event.bytes)
          f.fills.add({ result: e.event.ok ? 'stored' : 'failed' })
        }
        return
    }
  }

  return {
    observe,
    register: (...families) => void extra.push(...families),
    render: () => [...Object.values(f), ...extra].map((m) => m.render()).join(''),
    families: f,
  }
}
