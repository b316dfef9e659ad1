/**
 * Streams JSON messages as moby does: one object per line, CRLF, flushed as produced,
 * pulled by the client's reads (backpressure), with mid-stream errors written as
 * errorDetail lines. Cancelling the response (client gone) runs `onCancel`.
 */
import { errorMessage, line, type JsonMessage } from './json-message.ts'

export function ndjsonResponse(
  first: JsonMessage,
  rest: AsyncIterator<JsonMessage>,
  onCancel: () => void
): Response {
  const enc = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(enc.encode(line(first)))
    },
    async pull(controller) {
      try {
        const r = await rest.next()
        if (r.done) controller.close()
        else controller.enqueue(enc.encode(line(r.value)))
      } catch (err) {
        controller.enqueue(enc.encode(line(errorMessage(err instanceof Error ? err.message : String(err)))))
        controller.close()
      }
    },
    cancel() {
      onCancel()
      void rest.return?.()
    },
  })
  return new Response(body, { headers: { 'content-type': 'application/json' } })
}

/** Maps an async iterator, for turning domain events into messages lazily. */
export async function* mapMessages<T>(
  it: AsyncIterator<T>,
  fn: (e: T) => JsonMessage
): AsyncGenerator<JsonMessage> {
  for (;;) {
    const r = await it.next()
    if (r.done) return
    yield fn(r.value)
  }
}
