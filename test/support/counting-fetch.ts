/**
 * Wraps the real fetch to count what reaches the upstream, and to inject the faults a real
 * registry cannot produce on demand (a flipped byte).
 */
export interface CountingFetch {
  fetch: (req: Request) => Promise<Response>
  /** GETs of `/blobs/<digest>` seen so far, by digest. */
  blobGets: Map<string, number>
  /** Flip one byte in the next response for this digest. */
  corrupt(digest: string): void
  /** Drop the connection after the first chunk of the next response for this digest. */
  breakOnce(digest: string): void
}

export function countingFetch(inner: (req: Request) => Promise<Response> = (r) => fetch(r)): CountingFetch {
  const blobGets = new Map<string, number>()
  const corrupted = new Set<string>()
  const broken = new Set<string>()
  return {
    blobGets,
    corrupt: (d) => void corrupted.add(d),
    breakOnce: (d) => void broken.add(d),
    async fetch(req) {
      const m = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(new URL(req.url).pathname)
      const digest = m?.[1]
      if (digest && req.method === 'GET') blobGets.set(digest, (blobGets.get(digest) ?? 0) + 1)
      const res = await inner(req)
      if (digest && broken.has(digest) && res.status === 200 && res.body) {
        broken.delete(digest)
        const reader = res.body.getReader()
        let sent = false
        const body = new ReadableStream<Uint8Array>({
          async pull(c) {
            if (sent) {
              void reader.cancel()
              return c.error(new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }))
            }
            const r = await reader.read()
            sent = true
            if (r.value) c.enqueue(r.value)
          },
        })
        return new Response(body, { status: res.status, headers: res.headers })
      }
      if (!digest || !corrupted.has(digest) || !res.ok || !res.body) return res
      corrupted.delete(digest)
      let flipped = false
      const body = res.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            if (!flipped && chunk.byteLength > 0) {
              const copy = chunk.slice()
              copy[0] = copy[0]! ^ 0xff
              flipped = true
              c.enqueue(copy)
            } else c.enqueue(chunk)
          },
        })
      )
      return new Response(body, { status: res.status, headers: res.headers })
    },
  }
}
