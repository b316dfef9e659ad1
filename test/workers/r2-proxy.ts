/**
 * A StorageDriver that forwards every call to the R2 harness Worker (r2-harness.ts), so the
 * conformance suite drives the real R2 driver inside workerd. A put's body is read from the
 * caller's stream only when the driver asks for the next chunk (over a WebSocket), and is
 * cancelled only when the driver cancels it, so the suite's checks on the caller's stream
 * see the driver's own behaviour. Errors come back as the classes the suite expects.
 */
import { DigestMismatchError } from '../../src/oci/digest.ts'
import type { ObjectBody, ObjectInfo, PutOptions, StorageDriver } from '../../src/storage/driver.ts'
import { StorageError } from '../../src/storage/driver.ts'
import { InvalidKeyError } from '../../src/storage/keys.ts'
import type { R2DriverOptions } from '../../src/storage/r2.ts'
import type { BodyMessage, PullMessage, PutHeader, Result, WireError } from './r2-wire.ts'
import { message } from './r2-wire.ts'

/** A driver over the harness at `base`, whose R2 driver is built with `options`. */
export function r2Proxy(base: string, options: R2DriverOptions = {}): StorageDriver {
  type Params = Record<string, string | number>
  const urlOf = (path: string, params: Params) => {
    const url = new URL(path, base)
    url.searchParams.set('options', JSON.stringify(options))
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v))
    return url
  }
  const call = async (path: string, params: Params, init?: RequestInit) => {
    const res = await fetch(urlOf(path, params), init)
    if (res.headers.has('x-error')) throw fromWire((await res.json()) as WireError)
    return res
  }
  const json = async <T>(res: Promise<Response>) => (await (await res).json()) as T

  return {
    name: 'r2',
    stat: (key) => json<ObjectInfo | null>(call('/stat', { key })),
    delete: (key) => json<boolean>(call('/delete', { key }, { method: 'POST' })),

    async get(key, range) {
      const res = await call('/get', range ? { key, ...range } : { key })
      if (res.status === 404) return null
      const info = JSON.parse(res.headers.get('x-info')!) as ObjectInfo
      const r = JSON.parse(res.headers.get('x-range')!) as ObjectBody['range']
      return { info, range: r, body: res.body! }
    },

    put(key, body, opts = {}) {
      const h: PutHeader = {
        key,
        size: opts.size,
        sha256: opts.sha256,
        bytes: body instanceof Uint8Array,
        signal: opts.signal !== undefined,
        aborted: opts.signal?.aborted ?? false,
      }
      const url = urlOf('/put', { put: JSON.stringify(h) })
      url.protocol = 'ws:'
      return putOver(new WebSocket(url), body, opts)
    },

    async *list(prefix) {
      yield* await json<string[]>(call('/list', { prefix }))
    },
  }
}

// Serves the harness's pulls from `body` and settles with the driver's result.
function putOver(
  ws: WebSocket,
  body: ReadableStream<Uint8Array> | Uint8Array,
  { signal }: PutOptions
): Promise<ObjectInfo> {
  ws.binaryType = 'arraybuffer'
  const send = (m: BodyMessage) => ws.send(JSON.stringify(m))
  const alreadyAborted = signal?.aborted
  const pending = body instanceof Uint8Array ? [body] : []
  const reader = body instanceof Uint8Array ? undefined : body.getReader()
  const cancel = (reason: unknown) => void reader?.cancel(reason).catch(() => {})
  let failure: { err: unknown } | undefined
  let aborted = false
  // The harness learns of an abort at once. Cancelling the caller's body is left to the
  // driver (its cancel comes back as a message), so the suite sees what the driver does.
  const onAbort = () => {
    aborted = true
    send({ abort: true })
  }

  const pull = async () => {
    if (aborted) return
    if (!reader) return pending.length ? ws.send(pending.shift()!) : send({ end: true })
    let r
    try {
      r = await reader.read()
    } catch (err) {
      failure = { err }
      return send({ error: message(err) })
    }
    if (aborted) return
    if (r.done) send({ end: true })
    else ws.send(r.value)
  }

  return new Promise<ObjectInfo>((resolve, reject) => {
    const fail = (err: unknown) => {
      if (signal?.aborted) reject(signal.reason)
      else if (failure && message(err) === message(failure.err)) reject(failure.err)
      else reject(err)
    }
    ws.onopen = () => {
      if (signal?.aborted && !alreadyAborted) onAbort()
      else signal?.addEventListener('abort', onAbort, { once: true })
    }
    ws.onerror = () => fail(new Error('R2 harness socket failed'))
    ws.onclose = () => fail(new Error('R2 harness closed the socket without a result'))
    ws.onmessage = ({ data }) => {
      const m = JSON.parse(data as string) as PullMessage | Result<ObjectInfo>
      if ('pull' in m) void pull()
      else if ('cancel' in m) cancel(new Error(m.cancel))
      else if ('ok' in m) resolve(m.ok)
      else fail(fromWire(m.error))
    }
  }).finally(() => signal?.removeEventListener('abort', onAbort))
}

function fromWire(e: WireError): Error {
  if (e.name === 'DigestMismatchError') {
    return new DigestMismatchError(e.expected!, e.actual!, e.message)
  }
  if (e.name === 'InvalidKeyError') return new InvalidKeyError(e.message)
  if (e.name === 'StorageError') return new StorageError(e.message)
  if (e.name === 'AbortError') return new DOMException(e.message, 'AbortError')
  return Object.assign(new Error(e.message), { name: e.name })
}
