/**
 * A response body that survives a dropped connection: when the read fails (reset, premature
 * end, a 5xx from a proxy mid-body), it asks again from the byte it got to with
 * `Range: bytes=<n>-` and carries on, as dockerd's layer downloads do. The consumer sees
 * one uninterrupted stream; a server that ignores Range (200 instead of 206) is handled by
 * dropping the bytes already delivered.
 */
import { throwIfAborted, type Sleep } from './fetch.ts'
import { RegistryError, type RequestInfo } from './errors.ts'
import { isRetryableNetworkError, networkErrorText } from './network.ts'
import { backoffDelay, isRetryableStatus, type RetryPolicy } from './retry.ts'

/** How `resumableBody` reconnects. */
export interface ResumeOptions {
  /** The response the stream starts with (status 200, offset 0). */
  first: Response
  /** Asks for the body from `offset` on: a 200, 206 or 416 (nothing left) response, or throws. */
  reopen: (offset: number) => Promise<Response>
  /** Expected total length, if known: ending short of it counts as a broken connection. */
  total?: number
  policy: RetryPolicy
  sleep: Sleep
  signal?: AbortSignal
  /** The request, for Go-style error text when the budget runs out. */
  request: RequestInfo
  onProgress?: (bytesSoFar: number) => void
  /** Told before each wait to reconnect, so a pull can say `Retrying in N seconds`. */
  onRetry?: (delayMs: number) => void
}

/** `Content-Range: bytes <start>-<end>/<size>` → start, or undefined. */
export function contentRangeStart(res: Response): number | undefined {
  const m = /^bytes\s+(\d+)-\d+\/(?:\d+|\*)$/i.exec(res.headers.get('content-range')?.trim() ?? '')
  return m ? Number(m[1]) : undefined
}

/** A failed resume request worth another try: no response, or a retryable status. */
const isTransient = (e: unknown): boolean =>
  e instanceof RegistryError &&
  (e.transport ? isRetryableNetworkError(e.cause) : isRetryableStatus(e.status!))

class PrematureEnd extends Error {
  override name = 'PrematureEnd'
  constructor() {
    super('unexpected EOF')
  }
}

/** The bytes of `o.first`, reconnecting within the retry budget when the connection breaks. */
export function resumableBody(o: ResumeOptions): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> = o.first.body!.getReader()
  let delivered = 0
  let skip = 0
  // Failures in a row without a byte in between: a flaky but moving download keeps going.
  let failures = 0

  const giveUp = (err: unknown): RegistryError => {
    if (err instanceof RegistryError) return err
    const text =
      err instanceof PrematureEnd ? 'unexpected EOF' : networkErrorText(err, new URL(o.request.url))
    return new RegistryError({ ...o.request, text, cause: err })
  }

  /** Picks the download up where it broke; false when the server says nothing is left. */
  async function reconnect(cause: unknown): Promise<boolean> {
    for (let err = cause; ;) {
      failures++
      if (failures >= o.policy.attempts) throw giveUp(err)
      reader.cancel().catch(() => {})
      const delay = backoffDelay(o.policy, failures)
      o.onRetry?.(delay)
      await o.sleep(delay, o.signal)
      let res: Response
      try {
        res = await o.reopen(delivered)
      } catch (e) {
        if (!isTransient(e)) throw e
        err = e
        continue
      }
      if (res.status === 416) {
        await res.body?.cancel().catch(() => {})
        return false
      }
      if (res.status === 206) {
        const start = contentRangeStart(res)
        if (start === undefined || start > delivered) {
          await res.body?.cancel().catch(() => {})
          throw new RegistryError({
            ...o.request,
            status: 206,
            text: `unexpected Content-Range for offset ${delivered}`,
          })
        }
        skip = delivered - start
      } else {
        skip = delivered // the server ignored Range and sent everything again
      }
      reader = res.body!.getReader()
      return true
    }
  }

  async function next(): Promise<Uint8Array | undefined> {
    for (;;) {
      let result: Awaited<ReturnType<typeof reader.read>>
      try {
        result = await reader.read()
      } catch (err) {
        throwIfAborted(o.signal)
        if (!isRetryableNetworkError(err)) throw err
        if (!(await reconnect(err))) return undefined
        continue
      }
      if (result.done) {
        if (o.total === undefined || delivered >= o.total) return undefined
        if (!(await reconnect(new PrematureEnd()))) return undefined
        continue
      }
      let chunk = result.value
      if (skip > 0) {
        const dropped = Math.min(skip, chunk.byteLength)
        skip -= dropped
        chunk = chunk.subarray(dropped)
        if (chunk.byteLength === 0) continue
      }
      delivered += chunk.byteLength
      failures = 0
      return chunk
    }
  }

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await next()
        if (!chunk) return controller.close()
        controller.enqueue(chunk)
        o.onProgress?.(delivered)
      } catch (err) {
        reader.cancel(err).catch(() => {})
        throw err
      }
    },
    cancel(reason) {
      return reader.cancel(reason)
    },
  })
}
