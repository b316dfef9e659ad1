/**
 * An HTTP proxy in front of a real upstream registry, set as edgepull's registry endpoint: it
 * counts what reaches the upstream (GETs and HEADs per path), can pace response bodies (so a
 * fill is observably in flight), and can be switched to fail the way a real registry only
 * fails now and then (503, 429, a dropped connection), as a whole (`mode`), for chosen
 * requests (`inject`, faults.ts: reset, flipped byte, stall, hang, 503/429 with Retry-After),
 * or by closing its port (`down`). node:http rather than Bun.serve, so the upstream's
 * Content-Length reaches edgepull even on a paced body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { contentStart, Cut, faultyChunks, ruleFor, strikes, type FaultRule } from './faults.ts'

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
  /** `Range` headers seen, with the path they asked for, in order. */
  readonly ranges: Array<{ path: string; range: string }>
  /** Faults in force, first match wins (see faults.ts). */
  faults: FaultRule[]
  /** Adds a fault for the requests it describes; returns it, to read `hits`. */
  inject(rule: Omit<FaultRule, 'hits'>): FaultRule
  /** Closes the port: connections are refused until `up()`. */
  down(): Promise<void>
  /** Listens on the same port again (nothing to do when it is up). */
  up(): Promise<void>
  /** How many `METHOD` requests reached a path ending in `suffix`. */
  count(method: string, suffix: string): number
  stop(): Promise<void>
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host'])

/** Starts a proxy to `target` on a free loopback port. */
export async function countingProxy(target: string): Promise<CountingProxy> {
  const seen: string[] = []
  const ranges: CountingProxy['ranges'] = []
  const proxy = {
    mode: 'forward' as ProxyMode,
    bytesPerSecond: 0,
    faults: [] as FaultRule[],
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/'
    const bare = path.split('?')[0]!
    seen.push(`${req.method} ${bare}`)
    if (typeof req.headers.range === 'string') ranges.push({ path: bare, range: req.headers.range })
    if (proxy.mode === 'reset') return void req.socket.destroy()
    if (proxy.mode !== 'forward') return refuse(res, proxy.mode === 'ratelimited' ? 429 : 503)
    const rule = ruleFor(proxy.faults, req.method ?? 'GET', bare)
    if (rule?.fault.kind === 'status') {
      rule.hits++
      return refuse(res, rule.fault.status, rule.fault.retryAfter)
    }
    if (rule?.fault.kind === 'hang') {
      rule.hits++
      return untilClosed(res)
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
    let chunks = up.body as unknown as AsyncIterable<Uint8Array>
    const length = Number(up.headers.get('content-length') ?? NaN)
    const start = contentStart(up)
    if (rule && 'at' in rule.fault && strikes(rule.fault, start, length >= 0 ? length : undefined)) {
      rule.hits++
      chunks = faultyChunks(chunks, rule.fault, start)
    }
    const started = Date.now()
    let sent = 0
    try {
      for await (const chunk of chunks) {
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
    } catch (err) {
      if (!(err instanceof Cut)) throw err
      if (err.how === 'stall') {
        res.flushHeaders() // node:http holds them back until the first body bytes
        return untilClosed(res)
      }
      // Let the bytes before the fault reach the client, then drop the connection.
      await new Promise((r) => setTimeout(r, 50))
      return void res.socket?.destroy()
    }
    res.end()
  }

  const listen = async (port: number): Promise<Server> => {
    const s = createServer((req, res) => {
      handle(req, res).catch(() => res.destroy())
    })
    await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve))
    return s
  }
  const close = (s: Server) =>
    new Promise<void>((resolve) => {
      s.closeAllConnections()
      s.close(() => resolve())
    })
  let server = await listen(0)
  const { port } = server.address() as AddressInfo
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    seen,
    ranges,
    count: (method: string, suffix: string) =>
      seen.filter((s) => s.startsWith(`${method} `) && s.endsWith(suffix)).length,
    inject(rule: Omit<FaultRule, 'hits'>): FaultRule {
      const added = { ...rule, hits: 0 }
      proxy.faults.push(added)
      return added
    },
    down: () => close(server),
    up: async () => {
      if (!server.listening) server = await listen(port)
    },
    stop: () => close(server),
  })
}

/** Answers as a registry that cannot serve now: 503 UNAVAILABLE, or 429 TOOMANYREQUESTS. */
function refuse(res: ServerResponse, status: number, retryAfter?: number): void {
  const code = status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE'
  const body = JSON.stringify({ errors: [{ code, message: 'testbed proxy says no' }] })
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter)
  res.writeHead(status, headers).end(body)
}

/** Keeps the request open, answering nothing more, until the client (or `stop`) closes it. */
function untilClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => res.once('close', () => resolve()))
}
