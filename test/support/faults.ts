/**
 * Faults the counting proxy (counting-proxy.ts) injects into chosen requests on their way to
 * the real registry: the ways an upstream misbehaves that a healthy registry never shows on
 * demand. Offsets are positions in the blob (or manifest), not in one response, so a resume
 * with `Range: bytes=N-` meets a fault at its own place again, or not at all when it starts
 * past it.
 */

export type Fault =
  /** Answered by the proxy (upstream never asked), with `Retry-After` when given. */
  | { kind: 'status'; status: number; retryAfter?: number }
  /** The request is taken and never answered: no status line, no headers. */
  | { kind: 'hang' }
  /** The bytes before offset `at`, then the connection is dropped. */
  | { kind: 'reset'; at: number }
  /** Byte `at` arrives inverted; everything else as upstream sent it. */
  | { kind: 'flip'; at: number }
  /** Headers and the bytes before offset `at`, then silence with the connection open. */
  | { kind: 'stall'; at: number }

export type BodyFault = Extract<Fault, { at: number }>

/** A fault and the requests it strikes. */
export interface FaultRule {
  /** Requests whose path (without the query) matches. */
  path: RegExp
  /** Default `GET`. */
  method?: string
  fault: Fault
  /** How many requests it strikes (default: every one). */
  times?: number
  /** How many it struck so far. */
  hits: number
}

/** The first rule that still strikes `method path`, if any. */
export function ruleFor(rules: FaultRule[], method: string, path: string): FaultRule | undefined {
  return rules.find(
    (r) => (r.method ?? 'GET') === method && r.path.test(path) && r.hits < (r.times ?? Infinity)
  )
}

/** Where a response's bytes start in the whole content: its `Content-Range` start, or 0. */
export function contentStart(res: Response): number {
  const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')
  return m ? Number(m[1]) : 0
}

/** A body fault's way of ending the response, thrown from `faultyChunks`. */
export class Cut extends Error {
  constructor(readonly how: 'reset' | 'stall') {
    super(`fault: ${how}`)
  }
}

/** True when `fault` lies within a response of `length` bytes (if known) from `start`. */
export const strikes = (fault: BodyFault, start: number, length: number | undefined): boolean =>
  fault.at >= start && (length === undefined || fault.at < start + length)

/**
 * The chunks of `body` (starting at content offset `start`) with `fault` applied. Reset and
 * stall throw a `Cut` once the bytes before the fault have been handed out.
 */
export async function* faultyChunks(
  body: AsyncIterable<Uint8Array>,
  fault: BodyFault,
  start: number
): AsyncGenerator<Uint8Array> {
  let offset = start
  for await (const chunk of body) {
    const i = fault.at - offset
    offset += chunk.byteLength
    if (i < 0 || i >= chunk.byteLength) {
      yield chunk
    } else if (fault.kind === 'flip') {
      const copy = chunk.slice()
      copy[i]! ^= 0xff
      yield copy
    } else {
      if (i > 0) yield chunk.subarray(0, i)
      throw new Cut(fault.kind)
    }
  }
}
