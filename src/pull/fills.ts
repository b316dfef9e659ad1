/**
 * Blob fills: the one way upstream blobs enter the store, shared by pulls and the mirror.
 * At most one fill runs per digest, so concurrent pulls and mirror requests for a blob cost
 * one upstream GET. The fill streams upstream bytes into the driver's verified put; readers at
 * the head take them from a bounded in-memory window as they arrive, one that falls behind
 * reads what the driver has written (its `partialReads` capability) or waits for the commit,
 * and all switch to the committed blob once it is stored. Nothing is visible in the store
 * before its digest is verified, the last byte reaches no reader before that, and a failed
 * fill leaves nothing.
 *
 * Pulls hold a fill and leave it when cancelled; a fill nobody holds any more is aborted, as
 * dockerd cancels a download nobody waits for. The mirror detaches its fills instead: they
 * run to the end even when every client has left (distribution completes its cache write on
 * a detached context too), which is cheap and makes the next request a hit.
 */
import type { Digest } from '../oci/digest.ts'
import type { RepositoryClient } from '../registry/client.ts'
import { StorageError, type StorageDriver } from '../storage/driver.ts'
import { blobKey } from '../storage/keys.ts'
import { IO_CHUNK } from '../storage/streams.ts'
import { Fill, type FillProgress } from './fill.ts'
import { SpoolWindow } from './spool-window.ts'

export { Fill, type FillProgress, type FillState } from './fill.ts'

/** Where a fill gets its bytes, if it is the one to start. */
export interface FillSource {
  /** The upstream repository, as `originOf` names it. */
  readonly origin: string
  /** Opens the upstream body (verified as it flows) and says its length when known. */
  open(signal: AbortSignal): Promise<{ body: ReadableStream<Uint8Array>; size?: number }>
}

/** What a fill reports when it settles, for metrics. */
export interface FillOutcome {
  digest: Digest
  origin: string
  /** Bytes received from upstream (0 when the blob turned out to be stored already). */
  bytes: number
  ok: boolean
  error?: unknown
}

/** Options for `new Fills()`. */
export interface FillsOptions {
  /**
   * Bytes of each fill kept in memory for readers at the head: default 32 MiB on drivers
   * without `partialReads` (readers behind it wait for the commit), 1 MiB on the others.
   */
  window?: number
  /** Given every fill's work, so a Worker can `waitUntil` it past the response. */
  keepAlive?: (work: Promise<void>) => void
  /** Hears each fill as it starts and settles (the metrics seam). */
  observe?: (event: FillEvent) => void
}

/** A fill starting, or settling with its outcome. */
export type FillEvent =
  | { type: 'start'; digest: Digest; origin: string }
  | ({ type: 'end' } & FillOutcome)

/** `<endpoint url>/<path>`: one upstream repository, however the caller named it. */
export const originOf = (repo: Pick<RepositoryClient, 'endpoint' | 'path'>): string =>
  `${repo.endpoint.url.replace(/\/+$/, '')}/${repo.path}`

const DEFAULT_WINDOW = 32 * 1024 * 1024
// One block beside the one being filled: readers behind it read the temp file back, and
// every block held here and in readers' hands added to peak RSS (eight clients on Node:
// 161 MiB with 8 MiB, 158 with 2, 149 with 1).
const READ_BACK_WINDOW = IO_CHUNK

/** The fills in flight, by digest. One per process (or Worker isolate), over one driver. */
export class Fills {
  private readonly fills = new Map<Digest, Fill>()

  constructor(
    private readonly driver: StorageDriver,
    private readonly opts: FillsOptions = {}
  ) {}

  /** Number of fills running now (for metrics and tests). */
  get size(): number {
    return this.fills.size
  }

  /** The fill of `digest` in flight, if any. */
  current(digest: Digest): Fill | undefined {
    return this.fills.get(digest)
  }

  /**
   * Joins the fill of `digest`, starting it from `source` when none runs. `readers`: clients
   * will read it as it arrives (the mirror), so keep a window of it in memory.
   */
  join(digest: Digest, source: FillSource, readers = false): Fill {
    const running = this.fills.get(digest)
    // One that every holder abandoned, or that failed, is on its way out: a new caller gets a
    // fresh fill.
    const over = !running || running.abandoned || running.state === 'failed'
    return over ? this.start(digest, source, readers) : running
  }

  /**
   * The pull's way: fills the blob (or joins the fill in flight) and waits until it is stored.
   * Leaving through `signal` rejects at once; the fill stops only when nobody holds it.
   */
  async fetch(
    digest: Digest,
    source: FillSource,
    opts: { signal?: AbortSignal; onProgress?: FillProgress } = {}
  ): Promise<void> {
    const { signal } = opts
    signal?.throwIfAborted()
    const fill = this.join(digest, source)
    const release = fill.hold()
    const unlisten = opts.onProgress ? fill.listen(opts.onProgress) : () => {}
    let onAbort: (() => void) | undefined
    try {
      await new Promise<void>((resolve, reject) => {
        fill.done.then(resolve, reject)
        if (!signal) return
        onAbort = () => {
          const reason = signal.reason ?? new DOMException('aborted', 'AbortError')
          reject(reason)
          release(reason)
        }
        signal.addEventListener('abort', onAbort, { once: true })
      })
    } finally {
      if (onAbort) signal!.removeEventListener('abort', onAbort)
      unlisten()
      release()
    }
  }

  /**
   * The mirror's way: joins or starts a fill that runs to the end whoever leaves, and resolves
   * once upstream has answered (rejecting with its refusal), ready to `read()`.
   */
  async open(digest: Digest, source: FillSource): Promise<Fill> {
    const fill = this.join(digest, source, true)
    fill.detach()
    await fill.opened
    return fill
  }

  private start(digest: Digest, source: FillSource, readers: boolean): Fill {
    const { driver } = this
    const key = blobKey(digest)
    const partialReads = driver.partialReads === true
    // Readers that fall behind a window read the store's temp data back where the driver
    // can, so a small one is enough there; elsewhere they wait for the commit.
    const capacity = this.opts.window ?? (partialReads ? READ_BACK_WINDOW : DEFAULT_WINDOW)
    const fill = new Fill(digest, source.origin, {
      partialReads,
      window: readers || !partialReads ? new SpoolWindow(capacity) : undefined,
      async openStored(offset, length) {
        const o = await driver.get(key, { offset, length })
        if (!o) throw new StorageError(`${digest} left the store while being read`)
        return o.body
      },
    })
    this.fills.set(digest, fill)
    this.opts.observe?.({ type: 'start', digest, origin: source.origin })
    const work = this.run(fill, key, source).finally(() => {
      if (this.fills.get(digest) === fill) this.fills.delete(digest)
      const outcome = { digest, origin: source.origin, bytes: fill.received }
      const ok = fill.state === 'stored'
      this.opts.observe?.({ type: 'end', ...outcome, ok, ...(ok ? {} : { error: fill.error }) })
    })
    this.opts.keepAlive?.(work)
    return fill
  }

  private async run(fill: Fill, key: string, source: FillSource): Promise<void> {
    try {
      // A fill that finished a moment ago makes this one a hit (the caller's stat raced it).
      const present = await this.driver.stat(key)
      if (present) return fill.stored(present.size)
      const { body, size } = await source.open(fill.signal)
      fill.begin(size)
      const counted = body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            for (const out of fill.arrived(chunk)) controller.enqueue(out)
          },
          flush(controller) {
            const last = fill.ended()
            if (last) controller.enqueue(last)
          },
        })
      )
      const info = await this.driver.put(key, counted, {
        sha256: fill.digest,
        size,
        signal: fill.signal,
        onWritten: (n, read) => fill.written(n, read),
        onVerified: () => fill.verified(),
      })
      fill.stored(info.size)
    } catch (err) {
      fill.failed(err)
    }
  }
}
