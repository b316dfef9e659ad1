/**
 * One blob on its way from upstream into the store (see fills.ts): its state, who holds it,
 * and readers that tail it from any offset while it arrives. A reader takes views of the
 * in-memory window at the head, or at most IO_CHUNK at a time of what the store has already
 * written, never a per-reader buffer, so memory stays flat however many readers there are.
 */
import type { Digest } from '../oci/digest.ts'
import type { PartialRead } from '../storage/driver.ts'
import { IO_CHUNK, readAhead } from '../storage/streams.ts'
import type { SpoolWindow } from './spool-window.ts'

/** `opening` until upstream answers, `streaming` while bytes flow, then one of the last two. */
export type FillState = 'opening' | 'streaming' | 'stored' | 'failed'

/** Hears a fill's progress: bytes received so far, and the total when upstream declared it. */
export type FillProgress = (received: number, size?: number) => void

/** Opens `length` bytes of the committed blob from `offset`. */
export type OpenStored = (offset: number, length: number) => Promise<ReadableStream<Uint8Array>>

/** Where a fill's readers find bytes besides upstream's chunks. */
export interface FillStore {
  openStored: OpenStored
  /** True when the store's put can be read back before it commits (`written()` will say). */
  partialReads: boolean
  /** Recent bytes in memory for readers at the head; without it they read the store's. */
  window?: SpoolWindow
}

const settle = <T>() => {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => {}) // observed through `opened`/`done` by whoever cares
  return { promise, resolve, reject }
}

/** A fill in progress (or just finished); created and driven by `Fills`. */
export class Fill {
  state: FillState = 'opening'
  /** The blob's length: declared by upstream (may stay unknown until stored). */
  size: number | undefined
  /** Bytes received from upstream so far. */
  received = 0
  error: unknown
  private readable = 0
  /** The store verified every byte: the last one need not wait for the commit. */
  private verifiedAll = false
  private partial: PartialRead | undefined
  private readonly openedP = settle<number | undefined>()
  private readonly doneP = settle<void>()
  private tick = settle<void>()
  private readonly listeners = new Set<FillProgress>()
  private readonly controller = new AbortController()
  private holders = 0
  private detached = false
  /**
   * True once the last holder left. A plain flag rather than `signal.aborted`: on Workers a
   * request may not touch I/O objects (an AbortSignal among them) of another request.
   */
  abandoned = false

  constructor(
    readonly digest: Digest,
    /** Where the bytes come from: `<endpoint>/<repository path>` (see `originOf`). */
    readonly origin: string,
    private readonly store: FillStore
  ) {}

  private get window(): SpoolWindow | undefined {
    return this.store.window
  }

  /** Resolves with the size once upstream answered; rejects with its refusal. */
  get opened(): Promise<number | undefined> {
    return this.openedP.promise
  }

  /** Resolves once the blob is in the store, verified; rejects when the fill failed. */
  get done(): Promise<void> {
    return this.doneP.promise
  }

  /** Aborted when the last holder leaves a fill nobody detached. */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** Holds the fill until `release()`; a release by abort of the last holder aborts it. */
  hold(): (reason?: unknown) => void {
    this.holders++
    let held = true
    return (reason) => {
      if (!held) return
      held = false
      this.holders--
      const live = this.state === 'opening' || this.state === 'streaming'
      if (reason !== undefined && this.holders === 0 && !this.detached && live) {
        this.abandoned = true
        this.controller.abort(reason)
      }
    }
  }

  /** Lets the fill run to the end even when every holder and reader has left. */
  detach(): void {
    this.detached = true
  }

  /** Calls `fn` on progress, at once with the latest; returns the unsubscribe. */
  listen(fn: FillProgress): () => void {
    this.listeners.add(fn)
    if (this.received > 0) fn(this.received, this.size)
    return () => this.listeners.delete(fn)
  }

  /** Upstream answered with the body (and maybe its length). */
  begin(size: number | undefined): void {
    this.size = size
    this.state = 'streaming'
    this.openedP.resolve(size)
    this.notify()
  }

  /**
   * A chunk arrived from upstream (not yet verified, not yet stored). Returns what to pass on
   * to the store: the chunk itself, or with a window the blocks it completed.
   */
  arrived(chunk: Uint8Array): Uint8Array[] {
    this.received += chunk.byteLength
    const out = this.window ? this.window.push(chunk) : [chunk]
    if (this.window) this.notify()
    for (const l of this.listeners) l(this.received, this.size)
    return out
  }

  /** Upstream's body ended: the window's last, partly filled block, to pass on too. */
  ended(): Uint8Array | undefined {
    return this.window?.finish()
  }

  /** Bytes [0, readable) of the store's temporary data can now be read through `read`. */
  written(readable: number, read: PartialRead): void {
    this.readable = readable
    this.partial = read
    this.notify()
  }

  /** Every byte is written and matched the digest; the commit follows. */
  verified(): void {
    this.verifiedAll = true
    this.notify()
  }

  /** The blob is committed, `size` bytes long. */
  stored(size: number): void {
    this.size = size
    this.state = 'stored'
    this.openedP.resolve(size)
    this.doneP.resolve()
    this.notify()
  }

  /** The fill failed; nothing was committed. */
  failed(err: unknown): void {
    this.state = 'failed'
    this.error = err
    this.openedP.reject(err)
    this.doneP.reject(err)
    this.notify()
  }

  private notify(): void {
    const t = this.tick
    this.tick = settle<void>()
    t.resolve()
  }

  /** How far a reader whose range ends at `end` may read now. */
  private limit(end: number | undefined): number {
    let limit = Math.max(this.readable, this.window?.end ?? 0)
    // The blob's last byte waits for verification: a client that already holds every byte
    // would take an error that follows for a truncated connection, not for bad content.
    const toTheEnd =
      !this.verifiedAll && this.size !== undefined && (end === undefined || end >= this.size)
    if (toTheEnd) limit = Math.min(limit, this.size! - 1)
    return end === undefined ? limit : Math.min(limit, end)
  }

  /**
   * Bytes [offset, offset+length) (to the end without `length`) as they arrive, then from the
   * store once committed. Errors when the fill fails. `offset + length` must lie within the
   * blob when its size is known.
   */
  read(offset = 0, length?: number): ReadableStream<Uint8Array> {
    let at = offset
    let stored: ReadableStreamDefaultReader<Uint8Array> | undefined
    const next = async (): Promise<Uint8Array | null> => {
      for (;;) {
        if (stored) {
          const r = await stored.read()
          return r.done ? null : r.value
        }
        const end = length === undefined ? undefined : offset + length
        if (end !== undefined && at >= end) return null
        // Verified, so the size is final: a reader at the end is done before the commit.
        if (this.verifiedAll && at >= this.size!) return null
        if (this.state === 'failed') throw this.error
        if (this.state === 'stored') {
          const stop = end ?? this.size!
          if (at >= stop) return null
          stored = (await this.store.openStored(at, stop - at)).getReader()
          continue
        }
        const limit = this.limit(end)
        const tick = this.tick.promise
        const w = this.window
        if (at < limit && w && at >= w.start && at < w.end) {
          const bytes = w.read(at, limit - at)
          at += bytes.byteLength
          return bytes
        }
        if (at < Math.min(limit, this.readable) && this.partial) {
          try {
            const bytes = await this.partial(at, Math.min(IO_CHUNK, limit - at, this.readable - at))
            at += bytes.byteLength
            return bytes
          } catch {
            // The temporary data is gone (committed, failed): wait for the end.
            await this.doneP.promise.catch(() => {})
            continue
          }
        }
        // Behind the window and nothing to read back: the committed blob will do.
        if (w && at < w.start && !this.store.partialReads) await this.doneP.promise.catch(() => {})
        else await tick
      }
    }
    return readAhead(next, (reason) => stored?.cancel(reason))
  }
}
