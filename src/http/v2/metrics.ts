/**
 * GET /metrics: the Prometheus exposition (src/mirror/metrics.ts), outside the Engine API's
 * `/v1.NN` prefix as scrapers expect. It names no repositories, so it is served to anyone who
 * can reach the port, as most exporters are.
 */
import type { Hono } from 'hono'
import type { Metrics } from '../../mirror/metrics.ts'
import { PROMETHEUS_CONTENT_TYPE } from '../../mirror/prometheus.ts'

/** Registers /metrics; it answers 404 when the app has no metrics. */
export function metricsRoute(app: Hono, metrics: Metrics | undefined): void {
  app.on(['GET', 'HEAD'], '/metrics', (c) => {
    if (!metrics) return c.notFound()
    return new Response(c.req.method === 'HEAD' ? null : metrics.render(), {
      headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
    })
  })
}
