import { describe, expect, test } from 'bun:test'
import { sha256 } from '../oci/digest.ts'
import { createRegistryClient } from './client.ts'
import { RegistryError } from './errors.ts'
import { isRetryableNetworkError, networkErrorText } from './network.ts'
import { idleGuard, UpstreamTimeoutError, withTimeouts } from './timeouts.ts'

const URL_ = 'http://r.example:5000/v2/x/blobs/sha256:00'

/** A fetch that answers only when `answer` says so, and rejects like fetch when aborted. */
function pendingFetch(answer: (req: Request) => Promise<Response> | undefined) {
  const signals: AbortSignal[] = []
  const fetch = (req: Request) =>
    new Promise<Response>((resolve, reject) => {
      signals.push(req.signal)
      req.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
      answer(req)?.then(resolve, reject)
    })
  return { fetch, signals }
}

/** A body that sends `first` (if any), then nothing until its reader is cancelled. */
function stallingBody(first?: Uint8Array): ReadableStream<Uint8Array> {
  let sent = !first
  return new ReadableStream({
    pull(c) {
      if (sent) return new Promise(() => {})
      sent = true
      c.enqueue(first!)
    },
  })
}

/** What `p` rejects with; a fulfilment fails the test. */
const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err
  )

describe('headers timeout', () => {
  test('a request without response headers fails in time, and its connection is aborted', async () => {
    const { fetch, signals } = pendingFetch(() => undefined)
    const started = Date.now()
    const err = await rejection(withTimeouts(fetch, { headersMs: 50, idleMs: 0 })(new Request(URL_)))
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(err).toBeInstanceOf(UpstreamTimeoutError)
    expect((err as UpstreamTimeoutError).phase).toBe('headers')
    expect(signals[0]!.aborted).toBe(true)
    // Worded as Go does, and worth another try (send.ts retries it).
    expect(networkErrorText(err, new URL(URL_))).toBe('net/http: timeout awaiting response headers')
    expect(isRetryableNetworkError(err)).toBe(true)
  })

  test('headers in time clear the timer; the body is not cut by it', async () => {
    const { fetch } = pendingFetch(async () => {
      await Bun.sleep(10)
      return new Response(
        new ReadableStream({
          async pull(c) {
            await Bun.sleep(120) // longer than headersMs, within idleMs
            c.enqueue(new Uint8Array([1, 2, 3]))
            c.close()
          },
        })
      )
    })
    const res = await withTimeouts(fetch, { headersMs: 50, idleMs: 1_000 })(new Request(URL_))
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]))
  })

  test('uploads are exempt: fetch cannot say when their body was sent', async () => {
    const { fetch } = pendingFetch(async () => {
      await Bun.sleep(120)
      return new Response(null, { status: 201 })
    })
    const req = new Request(URL_, { method: 'PUT', body: new Uint8Array(10) })
    const res = await withTimeouts(fetch, { headersMs: 30, idleMs: 0 })(req)
    expect(res.status).toBe(201)
  })

  test("the caller's own abort still goes through, as an abort", async () => {
    const { fetch } = pendingFetch(() => undefined)
    const caller = new AbortController()
    const p = withTimeouts(fetch, { headersMs: 5_000 })(new Request(URL_, { signal: caller.signal }))
    caller.abort()
    const err = await rejection(p)
    expect(err).not.toBeInstanceOf(UpstreamTimeoutError)
    expect((err as Error).name).toBe('AbortError')
  })

  test('0 turns both off: the fetch is passed through untouched', () => {
    const fetch = async () => new Response('x')
    expect(withTimeouts(fetch, { headersMs: 0, idleMs: 0 })).toBe(fetch)
  })
})

describe('idle timeout', () => {
  test('a body that stalls fails with a body timeout and aborts the request', async () => {
    const { fetch, signals } = pendingFetch(async () => new Response(stallingBody(new Uint8Array(5))))
    const res = await withTimeouts(fetch, { headersMs: 0, idleMs: 60 })(new Request(URL_))
    const reader = res.body!.getReader()
    expect((await reader.read()).value).toHaveLength(5)
    const started = Date.now()
    const err = await rejection(reader.read())
    expect(Date.now() - started).toBeGreaterThanOrEqual(55)
    expect(Date.now() - started).toBeLessThan(1_000)
    expect((err as UpstreamTimeoutError).phase).toBe('body')
    expect(signals[0]!.aborted).toBe(true)
    expect(networkErrorText(err, new URL(URL_))).toBe('read tcp r.example:5000: i/o timeout')
    expect(isRetryableNetworkError(err)).toBe(true)
  })

  test('a slow consumer is not a stalled upstream: only pending reads are timed', async () => {
    let n = 0
    const source = new ReadableStream<Uint8Array>({
      pull(c) {
        if (n++ === 3) return c.close()
        c.enqueue(new Uint8Array([n]))
      },
    })
    const guarded = idleGuard(source, 40, () => {
      throw new Error('must not fire')
    })
    const reader = guarded.getReader()
    const got: number[] = []
    for (;;) {
      await Bun.sleep(100) // the consumer dawdles well past the idle timeout
      const r = await reader.read()
      if (r.done) break
      got.push(...r.value)
    }
    expect(got).toEqual([1, 2, 3])
  })

  test('a blob whose body stalls is resumed with Range and comes out whole', async () => {
    const blob = new Uint8Array(4096).map((_, i) => (i * 7) % 251)
    const ranges: string[] = []
    const fetch = async (req: Request): Promise<Response> => {
      if (new URL(req.url).pathname === '/v2/') return Response.json({})
      const range = req.headers.get('range')
      if (!range) return new Response(stallingBody(blob.slice(0, 1000)))
      ranges.push(range)
      const start = Number(/^bytes=(\d+)-$/.exec(range)![1])
      const headers = { 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}` }
      return new Response(blob.slice(start), { status: 206, headers })
    }
    const client = createRegistryClient({
      fetch,
      timeouts: { idleMs: 50 },
      sleep: async () => {},
    })
    const repo = client.repository({ url: 'http://r.example:5000', mirror: false }, 'x')
    const digest = sha256(blob)
    const got = await new Response(await repo.blob(digest, { size: blob.length })).arrayBuffer()
    expect(sha256(new Uint8Array(got))).toBe(digest)
    expect(ranges).toEqual(['bytes=1000-'])
  })

  test('a body that stalls at the same place every time gives up with the timeout in Go words', async () => {
    const fetch = async (req: Request): Promise<Response> =>
      new URL(req.url).pathname === '/v2/'
        ? Response.json({})
        : new Response(stallingBody())
    const client = createRegistryClient({
      fetch,
      timeouts: { idleMs: 20 },
      retry: { attempts: 3 },
      sleep: async () => {},
    })
    const repo = client.repository({ url: 'http://r.example:5000', mirror: false }, 'x')
    const stream = await repo.blob(sha256(new Uint8Array(10)), { size: 10 })
    const err = await rejection(new Response(stream).arrayBuffer())
    expect(err).toBeInstanceOf(RegistryError)
    expect((err as Error).message).toContain('i/o timeout')
  })
})
