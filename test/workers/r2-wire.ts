/**
 * What the R2 test harness (a Worker) and its driver proxy (in bun test) say to each other.
 *
 * Reads, stats, lists and deletes are plain HTTP. A put is a WebSocket, because HTTP would
 * let the proxy read the caller's body ahead of the driver: the driver could then neither
 * cancel a body it never read nor see where the caller's stream failed. Over the socket the
 * harness pulls one chunk at a time, exactly when the driver reads, and the proxy answers
 * with that chunk (a binary message) or a `BodyMessage`. The harness ends with a `Result`.
 */

/** Proxy → harness: the caller's body ended, failed, or the put's signal fired. */
export type BodyMessage = { end: true } | { error: string } | { abort: true }

/** Harness → proxy: read one more chunk (`pull`), or give up on the body. */
export type PullMessage = { pull: true } | { cancel: string }

/** Harness → proxy, last: what the driver's put returned or threw. */
export type Result<T> = { ok: T } | { error: WireError }

/** What a put carries besides its body (the `put` query parameter). */
export interface PutHeader {
  key: string
  size?: number
  sha256?: string
  /** The proxy got a Uint8Array: the harness hands the driver one too. */
  bytes: boolean
  /** The proxy got a signal: the harness passes the driver one, fired by `{abort}`. */
  signal: boolean
  aborted: boolean
}

/** An error as it crosses the wire. */
export interface WireError {
  name: string
  message: string
  expected?: string
  actual?: string
}

/** Serialises whatever a driver threw. */
export function toWire(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err))
  const { expected, actual } = e as { expected?: string; actual?: string }
  return { name: e.name, message: e.message, expected, actual }
}

/** An error's message, whatever was thrown. */
export const message = (err: unknown): string =>
  err instanceof Error ? err.message : String(err)
