/**
 * Keeping the store within its budget (`mirror.maxBytes`): least recently used mirror content
 * goes first, whole manifests (their tags and revisions) and then the blobs only they held
 * (eviction-plan.ts). Engine API images are never evicted; they pin their blobs. A blob being
 * served (leased from the `serving` event to its `served`), being filled (`fills.current`) or
 * touched within the grace period stays.
 *
 * Last access lives in memory, fed by the observer seam: a blob body starting or ending, a
 * manifest served, a fill or manifest fetch storing something. For anything untouched since
 * the process started, it is the blob's write time in the store. Nothing is written per read,
 * which would cost a store write per request (an R2 operation on Workers); the price is that a
 * restart forgets which old blobs were read lately, so the first runs after one evict by write
 * time until requests teach it again.
 *
 * Runs happen in the background: once at start, then whenever the bytes stored since the last
 * run (fills, manifests) take the store over budget. A run lists the store but stats only new
 * blobs, and takes the store lock that rmi, prune and pulls' commits take while it decides
 * and deletes, so an image record is never written over a blob it is deleting.
 */
import type { Digest } from '../oci/digest.ts'
import type { Fills } from '../pull/fills.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { StorageDriver } from '../storage/driver.ts'
import type { ImageStore } from '../storage/images.ts'
import { parseMirrorKey } from '../storage/keys.ts'
import { exclusive, isLeased } from '../storage/lock.ts'
import type { MirrorEvent, MirrorObserver } from './events.ts'
import { planEviction } from './eviction-plan.ts'
import { StoreScanner, tagDigest, type BlobEntry, type StoreSnapshot } from './eviction-scan.ts'
import { MetricFamily } from './prometheus.ts'

/** What eviction needs. */
export interface EvictionDeps {
  driver: StorageDriver
  blobs: BlobStore
  /** The same image store (object) the Engine API locks on. */
  images: ImageStore
  fills: Fills
  /** The budget, in bytes. */
  maxBytes: number
  /** Blobs touched more recently than this stay (default 10 minutes). */
  graceMs?: number
  /** The share of the budget a run gets down to (default 0.9), so runs are not back to back. */
  lowWater?: number
  now?: () => number
  /** Given each background run, so a Worker can `waitUntil` it. */
  keepAlive?: (work: Promise<void>) => void
  /** Where a failed run is reported (default console.warn). */
  log?: (message: string) => void
}

/** What a run did. */
export interface EvictionReport {
  /** Stored bytes when the run looked, and after it. */
  before: number
  after: number
  /** Mirror manifests forgotten and blobs deleted. */
  manifests: number
  blobs: number
}

/** The eviction service. */
export interface Eviction {
  /** Feed it every mirror event (fills included). */
  observe: MirrorObserver
  /** Its metrics, for /metrics. */
  readonly families: MetricFamily[]
  /** Starts the first run in the background. */
  start(): void
  /**
   * Runs now (after any run in progress), whatever the estimate says; `budget` replaces the
   * configured one for this run (tests, an operator freeing space).
   */
  run(budget?: number): Promise<EvictionReport>
}

export const DEFAULT_GRACE_MS = 10 * 60_000
// After a run that could not get under budget (everything held), wait before trying again.
const QUIET_MS = 5_000

/** Creates the eviction service; nothing runs before `start()` or an event over budget. */
export function createEviction(deps: EvictionDeps): Eviction {
  const { driver, blobs, images, fills, maxBytes } = deps
  const now = deps.now ?? Date.now
  const grace = deps.graceMs ?? DEFAULT_GRACE_MS
  const lowWater = deps.lowWater ?? 0.9
  const log = deps.log ?? ((m: string) => console.warn(m))
  const scanner = new StoreScanner(driver, blobs, images)
  const touched = new Map<Digest, number>()
  const leases = new Map<Digest, number>()
  // Bytes stored as of the last run plus those added since: what decides whether to run.
  let stored = 0
  let added = 0
  let tail: Promise<unknown> = Promise.resolve()
  let queued = false
  let quietUntil = 0

  const m = evictionFamilies()
  m.budget.set({}, maxBytes)

  const at = (d: Digest, entry?: BlobEntry) => Math.max(touched.get(d) ?? 0, entry?.modified ?? 0)
  const held = (d: Digest, entry?: BlobEntry) =>
    (leases.get(d) ?? 0) > 0 ||
    isLeased(blobs, d) ||
    fills.current(d) !== undefined ||
    now() - at(d, entry) < grace

  async function once(budget: number): Promise<EvictionReport> {
    const snap = await scanner.scan()
    // Blobs deleted by others (rmi, prune) need no access time; a blob stored since the
    // listing falls back to its write time, which is as recent.
    for (const d of touched.keys()) if (!snap.blobs.has(d) && !fills.current(d)) touched.delete(d)
    const base = added
    const report = await exclusive(images, () => decide(snap, Math.floor(budget * lowWater)))
    // What was stored while the run went on stays in `added`, for the next one.
    stored = report.after
    added -= base
    m.stored.set({}, stored + added)
    m.runs.add({ result: 'ok' })
    m.blobs.add({}, report.blobs)
    m.bytes.add({}, report.before - report.after)
    m.manifests.add({}, report.manifests)
    return report
  }

  /** Plans and carries out a run, under the store lock. */
  async function decide(snap: StoreSnapshot, target: number): Promise<EvictionReport> {
    const pinned = await scanner.pins()
    const started = now()
    const view = new Map<Digest, { size: number; at: number }>()
    for (const [d, e] of snap.blobs) view.set(d, { size: e.size, at: at(d, e) })
    const plan = planEviction({
      blobs: view,
      pinned,
      manifests: new Set(snap.revisions.keys()),
      children: scanner.children,
      held: (d) => held(d, snap.blobs.get(d)),
      target,
    })
    // Whatever was read while the run planned is no longer least recently used, and neither
    // is what it holds.
    const spared = new Set<Digest>()
    const spare = (d: Digest): void => {
      if (spared.has(d)) return
      spared.add(d)
      for (const c of scanner.children(d)) spare(c)
    }
    const readSince = (d: Digest) => (touched.get(d) ?? 0) > started
    const tags = new Map<string, Digest | null>()
    let manifests = 0
    for (const d of plan.manifests) {
      if (readSince(d) || held(d, snap.blobs.get(d))) {
        spare(d)
        continue
      }
      await forgetManifest(d, snap, tags)
      manifests++
    }
    let freed = 0
    let deleted = 0
    for (const d of plan.blobs) {
      const entry = snap.blobs.get(d)!
      if (spared.has(d) || readSince(d) || held(d, entry)) continue
      if (await blobs.delete(d)) {
        freed += entry.size
        deleted++
      }
      scanner.forget(d)
      touched.delete(d)
      for (const key of snap.layers.get(d) ?? []) await driver.delete(key).catch(() => false)
    }
    return { before: plan.before, after: plan.before - freed, manifests, blobs: deleted }
  }

  /** Deletes a manifest's revisions, and the tags pointing at it, in every repository. */
  async function forgetManifest(
    d: Digest,
    snap: StoreSnapshot,
    tags: Map<string, Digest | null>
  ): Promise<void> {
    for (const key of snap.revisions.get(d) ?? []) {
      const repository = parseMirrorKey(key)!.repository
      for (const tagKey of snap.tags.get(repository) ?? []) {
        if (!tags.has(tagKey)) tags.set(tagKey, await tagDigest(driver, tagKey))
        if (tags.get(tagKey) === d) await driver.delete(tagKey)
      }
      await driver.delete(key)
    }
  }

  function run(budget = maxBytes): Promise<EvictionReport> {
    queued = true
    const r = tail.then(() => {
      queued = false
      return once(budget)
    })
    tail = r.catch(() => {})
    return r
  }

  function background(): void {
    const work = run().then(
      (report) => {
        if (report.after > maxBytes) quietUntil = now() + QUIET_MS
      },
      (err) => {
        m.runs.add({ result: 'failed' })
        log(`edgepull: eviction run failed: ${err instanceof Error ? err.message : err}`)
      }
    )
    deps.keepAlive?.(work)
  }

  /** Starts a run when the store is over budget, unless one is queued or it is too soon. */
  function kick(): void {
    if (stored + added <= maxBytes || queued || now() < quietUntil) return
    background()
  }

  const grow = (d: Digest, bytes: number) => {
    touched.set(d, now())
    added += bytes
    m.stored.set({}, stored + added)
    kick()
  }

  function observe(e: MirrorEvent): void {
    if (e.type === 'serving') {
      leases.set(e.digest, (leases.get(e.digest) ?? 0) + 1)
      touched.set(e.digest, now())
    } else if (e.type === 'served' && e.digest) {
      touched.set(e.digest, now())
      if (e.kind !== 'blob') return
      const n = (leases.get(e.digest) ?? 0) - 1
      if (n > 0) leases.set(e.digest, n)
      else leases.delete(e.digest)
      kick() // a blob a stuck run had to keep may be free now
    } else if (e.type === 'fetched') {
      grow(e.digest, e.bytes)
    } else if (e.type === 'fill' && e.event.type === 'end' && e.event.ok) {
      grow(e.event.digest, e.event.bytes)
    }
  }

  return {
    observe,
    families: Object.values(m),
    start: background,
    run: (budget) => run(budget),
  }
}

function evictionFamilies() {
  const family = (name: string, type: 'counter' | 'gauge', help: string) =>
    new MetricFamily(name, type, help)
  return {
    stored: family(
      'edgepull_store_bytes',
      'gauge',
      'Bytes of blobs in the store: as of the last eviction run, plus those stored since.'
    ),
    budget: family('edgepull_store_budget_bytes', 'gauge', 'The store budget (mirror.maxBytes).'),
    runs: family('edgepull_eviction_runs_total', 'counter', 'Eviction runs, by result.'),
    blobs: family('edgepull_evicted_blobs_total', 'counter', 'Blobs deleted by eviction.'),
    bytes: family('edgepull_evicted_bytes_total', 'counter', 'Bytes freed by eviction.'),
    manifests: family(
      'edgepull_evicted_manifests_total',
      'counter',
      'Mirror manifests forgotten by eviction, with the tags pointing at them.'
    ),
  }
}
