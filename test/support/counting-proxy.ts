/**
 * An HTTP proxy in front of a real upstream registry, set as edgepull's registry endpoint: it
 * counts what reaches the upstream (GETs and HEADs per path), can pace response bodies (so a
 * fill is observably in flight), and can be switched to fail the way a real registry only
 * fails now and then (503, 429, a dropped connection). node:http rather than Bun.serve, so the
 * upstream's Content-Length reaches edgepull even on a paced body.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** How the proxy answers. */
export type ProxyMode = 'forward' | 'unavailable' | 'ratelimited' | 'reset'

export interface CountingProxy {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  mode: ProxyMode
  /** Body bytes per second (0: unpaced). */
  bytesPerSecond: number
  /** Requests seen, `METHOD /path`, in order. */
  readonly seen: string[]
  /** How many `METHOD` requests reached a path ending in `suffix`. */
  count(method: string, suffix: string): number
  stop(): Promise<void>
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host'])

/** Starts a proxy to `target` on a free loopback port. */
export async function countingProxy(target: string): Promise<CountingProxy> {
  const seen: string[] = []
  const proxy = {
    mode: 'forward' as ProxyMode,
    bytesPerSecond: 0,
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/'
    seen.push(`${req.method} ${path.split('?')[0]}`)
    if (proxy.mode === 'reset') return void req.socket.destroy()
    if (proxy.mode !== 'forward') {
      const limited = proxy.mode === 'ratelimited'
      const [status, code] = limited ? [429, 'TOOMANYREQUESTS'] : [503, 'UNAVAILABLE']
      const body = JSON.stringify({ errors: [{ code, message: 'testbed proxy says no' }] })
      res.writeHead(status, { 'content-type': 'application/json' }).end(body)
      return
    }
    const headers = new Headers()
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string' && !HOP_BY_HOP.has(k) && k !== 'content-length') headers.set(k, v)
    }
    const abort = new AbortController()
    res.once('close', () => abort.abort())
    const up = await fetch(target + path, {
      method: req.method,
      headers,
      redirect: 'manual',
      signal: abort.signal,
    })
    const out: Record<string, string> = {}
    up.headers.forEach((v, k) => {
      if (!HOP_BY_HOP.has(k) && k !== 'content-encoding') out[k] = v
    })
    res.writeHead(up.status, out)
    if (!up.body || req.method === 'HEAD') return void res.end()
    const started = Date.now()
    let sent = 0
    for await (const chunk of up.body as unknown as AsyncIterable<Uint8Array>) {
      for (let at = 0; at < chunk.byteLength; at += 64 * 1024) {
        const piece = chunk.subarray(at, at + 64 * 1024)
        if (!res.write(piece)) await new Promise((r) => res.once('drain', r))
        sent += piece.byteLength
        if (proxy.bytesPerSecond > 0) {
          const due = started + (sent / proxy.bytesPerSecond) * 1000
          const wait = due - Date.now()
          if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        }
        if (res.destroyed) return
      }
    }
    res.end()
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    seen,
    count: (method: string, suffix: string) =>
      seen.filter((s) => s.startsWith(`${method} `) && s.endsWith(suffix)).length,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  })
}
