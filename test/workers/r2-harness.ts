/**
 * A test Worker that exposes the R2 driver, so the shared conformance suite can run in bun
 * test against the driver inside workerd (FixedLengthStream, the real R2 binding).
 * test/workers/r2-proxy.ts is the other end; r2-wire.ts is the protocol. Every request builds
 * a driver with the options in its `options` parameter, and every bucket call is recorded
 * for `GET /calls` (which also clears the log).
 */
import type { ByteRange, StorageDriver } from '../../src/storage/driver.ts'
import { createR2Driver, type R2DriverOptions } from '../../src/storage/r2.ts'
import type { R2Bucket, R2MultipartUpload } from '../../src/storage/r2-types.ts'
import { readFully } from '../../src/storage/streams.ts'
import type { BodyMessage, PullMessage, PutHeader, Result } from './r2-wire.ts'
import { message, toWire } from './r2-wire.ts'

/** One recorded bucket call. */
export interface Call {
  op: string
  key?: string
  part?: number
  sha256?: string
  parts?: number
}

// workerd's server-side WebSocket API, the part used here.
interface ServerSocket {
  accept(): void
  send(message: string): void
  close(code?: number): void
  addEventListener(type: 'message', fn: (e: { data: string | ArrayBuffer | Blob }) => void): void
  addEventListener(type: 'close' | 'error', fn: () => void): void
}
declare const WebSocketPair: new () => { 0: unknown; 1: ServerSocket }

const calls: Call[] = []

export default {
  async fetch(request: Request, env: { BLOBS: R2Bucket }): Promise<Response> {
    const url = new URL(request.url)
    const q = (name: string) => url.searchParams.get(name) ?? ''
    if (url.pathname === '/calls') return Response.json(calls.splice(0))
    try {
      const d = createR2Driver(recording(env.BLOBS), JSON.parse(q('options')) as R2DriverOptions)
      switch (url.pathname) {
        case '/put':
          return put(d, JSON.parse(q('put')) as PutHeader)
        case '/get':
          return await get(d, q('key'), url.searchParams.has('offset') ? range(url) : undefined)
        case '/stat':
          return Response.json(await d.stat(q('key')))
        case '/delete':
          return Response.json(await d.delete(q('key')))
        case '/list': {
          const keys: string[] = []
          for await (const k of d.list(q('prefix'))) keys.push(k)
          return Response.json(keys)
        }
      }
      return new Response('not found', { status: 404 })
    } catch (err) {
      return Response.json(toWire(err), { status: 500, headers: { 'x-error': '1' } })
    }
  },
}

// Runs one put over a WebSocket: the body is pulled from the proxy chunk by chunk.
function put(d: StorageDriver, h: PutHeader): Response {
  const { 0: client, 1: socket } = new WebSocketPair()
  socket.accept()
  const ac = new AbortController()
  if (h.aborted) ac.abort()
  type Message = Blob | ArrayBuffer | BodyMessage | undefined
  let waiting: ((m: Message) => void) | undefined
  const send = (m: PullMessage | Result<unknown>) => socket.send(JSON.stringify(m))
  // Binary messages come as Blobs through Miniflare's entry proxy, ArrayBuffers elsewhere.
  socket.addEventListener('message', ({ data }) => {
    const m = typeof data === 'string' ? (JSON.parse(data) as BodyMessage) : data
    if (typeof m === 'object' && 'abort' in m) ac.abort()
    else waiting?.(m)
  })
  socket.addEventListener('close', () => waiting?.(undefined))

  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        const m = await new Promise<Message>((resolve) => {
          waiting = resolve
          send({ pull: true })
        })
        waiting = undefined
        if (m instanceof Blob) c.enqueue(new Uint8Array(await m.arrayBuffer()))
        else if (m instanceof ArrayBuffer) c.enqueue(new Uint8Array(m))
        else if (m && 'end' in m) c.close()
        else c.error(new Error(m && 'error' in m ? m.error : 'proxy went away'))
      },
      cancel: (reason) => send({ cancel: message(reason) }),
    },
    { highWaterMark: 0 }
  )
  const run = async () => {
    const body = h.bytes ? await readFully(stream, 1 << 30) : stream
    const signal = h.signal ? ac.signal : undefined
    return d.put(h.key, body, { size: h.size, sha256: h.sha256, signal })
  }
  run().then(
    (ok) => send({ ok }),
    (err: unknown) => send({ error: toWire(err) })
  ).finally(() => socket.close(1000))
  return new Response(null, { status: 101, webSocket: client } as ResponseInit)
}

async function get(d: StorageDriver, key: string, r?: ByteRange): Promise<Response> {
  const o = await d.get(key, r)
  if (!o) return Response.json(null, { status: 404 })
  const headers = { 'x-info': JSON.stringify(o.info), 'x-range': JSON.stringify(o.range) }
  return new Response(o.body, { headers })
}

const range = (url: URL): ByteRange => ({
  offset: Number(url.searchParams.get('offset')),
  length: Number(url.searchParams.get('length')),
})

// The real binding behind a transparent wrapper that logs each call.
function recording(b: R2Bucket): R2Bucket {
  const log = (c: Call) => void calls.push(c)
  return {
    head: (key) => (log({ op: 'head', key }), b.head(key)),
    get: (key, o) => (log({ op: 'get', key }), b.get(key, o)),
    put: (key, v, o) => (log({ op: 'put', key, sha256: o?.sha256 }), b.put(key, v, o)),
    delete: (keys) => (log({ op: 'delete', key: String(keys) }), b.delete(keys)),
    list: (o) => (log({ op: 'list', key: o?.prefix }), b.list(o)),
    async createMultipartUpload(key) {
      log({ op: 'createMultipartUpload', key })
      const u = await b.createMultipartUpload(key)
      return {
        key: u.key,
        uploadId: u.uploadId,
        uploadPart: (part, v) => (log({ op: 'uploadPart', key, part }), u.uploadPart(part, v)),
        abort: () => (log({ op: 'abort', key }), u.abort()),
        complete: (parts) => (log({ op: 'complete', key, parts: parts.length }), u.complete(parts)),
      } satisfies R2MultipartUpload
    },
  }
}
