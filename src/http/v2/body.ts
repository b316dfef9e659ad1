/** Response bodies that report how many bytes reached the client, for the `served` event. */

/**
 * Passes `body` through and calls `done(bytes)` once: at its end, on its error, or when the
 * client goes away (the source is cancelled then, which releases files and fill readers).
 */
export function counted(
  body: ReadableStream<Uint8Array>,
  done: (bytes: number) => void
): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  let bytes = 0
  let reported = false
  const report = () => {
    if (reported) return
    reported = true
    done(bytes)
  }
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const r = await reader.read()
          if (r.done) {
            report()
            controller.close()
            return
          }
          bytes += r.value.byteLength
          controller.enqueue(r.value)
        } catch (err) {
          report()
          controller.error(err)
        }
      },
      async cancel(reason) {
        report()
        await reader.cancel(reason).catch(() => {})
      },
    },
    { highWaterMark: 0 }
  )
}

/**
 * Waits for the first chunk of `body` before the response is committed to a status, so that
 * a fill failing at once (upstream gone, bad content) is answered with an error status rather
 * than a 200 cut short. Throws what the first read throws.
 */
export async function primed(
  body: ReadableStream<Uint8Array>
): Promise<ReadableStream<Uint8Array>> {
  const reader = body.getReader()
  let first: Awaited<ReturnType<typeof reader.read>> | undefined = await reader.read()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const r = first ?? (await reader.read())
        first = undefined
        if (r.done) controller.close()
        else controller.enqueue(r.value)
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 }
  )
}
