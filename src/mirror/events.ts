/**
 * What the mirror reports, at one seam: every request's outcome, the bytes it served, the
 * upstream failures it met, and (through `Fills`) each fill as it starts and ends. Metrics
 * (`/metrics`), logs and the eviction policy's access times are observers of these events;
 * nothing else in the mirror counts.
 */
import type { Digest } from '../oci/digest.ts'
import type { FillEvent } from '../pull/fills.ts'

/** What a request asked for. */
export type MirrorKind = 'manifest' | 'blob' | 'tags'

/**
 * How a request was answered: from the cache (`hit`), from the cache after upstream confirmed
 * it (`revalidated`), from the cache because upstream could not answer (`stale`), by a new
 * upstream fetch (`miss`), by joining a fill already in flight (`shared`), or by asking
 * upstream without caching (`passthrough`: tag lists, HEAD of an uncached blob).
 */
export type MirrorOutcome = 'hit' | 'revalidated' | 'stale' | 'miss' | 'shared' | 'passthrough'

/** One event; `repository` is canonical (`docker.io/library/busybox`). */
export type MirrorEvent =
  | {
      type: 'request'
      kind: MirrorKind
      method: string
      repository: string
      /** Absent when the request failed before an answer was chosen. */
      outcome?: MirrorOutcome
      status: number
    }
  /** A blob body starts flowing to a client; exactly one `served` follows. */
  | { type: 'serving'; kind: MirrorKind; repository: string; digest: Digest }
  /** A body ended (complete, failed or abandoned by the client) after `bytes`. */
  | { type: 'served'; kind: MirrorKind; repository: string; digest?: Digest; bytes: number }
  | { type: 'upstream-error'; repository: string; status?: number; code?: string }
  /** A manifest fetched upstream and stored (blobs report through `fill`). */
  | { type: 'fetched'; kind: 'manifest'; repository: string; digest: Digest; bytes: number }
  /** `/v2/token` issued a token, carrying credentials or not. */
  | { type: 'token'; anonymous: boolean }
  | { type: 'fill'; event: FillEvent }

/** Receives every event; must not throw or block. */
export type MirrorObserver = (event: MirrorEvent) => void
