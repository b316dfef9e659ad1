/**
 * What an eviction run removes, decided over a snapshot of the store (no I/O here). The store
 * is a graph: Engine API image records pin their blobs; each mirror manifest (its revisions
 * in any repository, and the tags pointing at it) holds the blobs it refers to, and an index
 * the manifests it lists. Least recently used first, a run either deletes a blob nothing
 * holds, or forgets a whole mirror manifest, after which the blobs only it held are free in
 * turn. Blobs being served, filled or younger than the grace period are held: never deleted,
 * and a manifest whose bytes are held is not forgotten.
 */
import type { Digest } from '../oci/digest.ts'

/** A snapshot of the store, as a run sees it. */
export interface EvictionInput {
  /** Every stored blob: its size and when it was last written or read (ms). */
  blobs: ReadonlyMap<Digest, { size: number; at: number }>
  /** Blobs that stay whatever happens (Engine API image records). */
  pinned: ReadonlySet<Digest>
  /** Mirror manifests, by digest: forgotten as a whole, in every repository at once. */
  manifests: ReadonlySet<Digest>
  /** What a stored manifest refers to: config, layers, listed manifests ([] for others). */
  children(d: Digest): readonly Digest[]
  /** True for blobs that must stay now (served, being filled, younger than the grace). */
  held(d: Digest): boolean
  /** Bytes to get down to. */
  target: number
}

/** What to remove, in order. */
export interface EvictionPlan {
  /** Mirror manifests to forget: their revisions and the tags pointing at them. */
  manifests: Digest[]
  /** Blobs to delete, least recently used first. */
  blobs: Digest[]
  /** Stored bytes now, and once the plan is carried out. */
  before: number
  after: number
}

/** Plans a run that gets the store down to `input.target` bytes, or as close as it may. */
export function planEviction(input: EvictionInput): EvictionPlan {
  const { blobs, pinned, manifests, children, held, target } = input
  const at = (d: Digest) => blobs.get(d)?.at ?? 0
  let total = 0
  for (const b of blobs.values()) total += b.size
  const plan: EvictionPlan = { manifests: [], blobs: [], before: total, after: total }
  if (total <= target) return plan

  // Holders per blob: its live parents, plus one for a mirror manifest's own revisions.
  const holders = new Map<Digest, number>()
  const live = new Set<Digest>()
  const hold = (d: Digest) => holders.set(d, (holders.get(d) ?? 0) + 1)
  const visit = (d: Digest): void => {
    if (live.has(d)) return
    live.add(d)
    for (const c of children(d)) {
      hold(c)
      visit(c)
    }
  }
  for (const m of manifests) {
    hold(m)
    visit(m)
  }

  const free = new Heap<Digest>((a, b) => at(a) < at(b))
  for (const d of blobs.keys()) if (!live.has(d) && !pinned.has(d)) free.push(d)
  const release = (d: Digest): void => {
    const n = (holders.get(d) ?? 0) - 1
    holders.set(d, n)
    if (n !== 0 || pinned.has(d)) return
    live.delete(d)
    if (blobs.has(d)) free.push(d)
    for (const c of children(d)) release(c)
  }

  const units = [...manifests].sort((a, b) => at(a) - at(b))
  let next = 0
  while (total > target) {
    while (free.size > 0 && held(free.peek()!)) free.pop()
    while (next < units.length && held(units[next]!)) next++
    const blob = free.peek()
    const unit = units[next]
    if (blob !== undefined && (unit === undefined || at(blob) <= at(unit))) {
      free.pop()
      plan.blobs.push(blob)
      total -= blobs.get(blob)!.size
    } else if (unit !== undefined) {
      next++
      plan.manifests.push(unit)
      release(unit)
    } else {
      break
    }
  }
  plan.after = total
  return plan
}

/** A binary min-heap under `before`. */
class Heap<T> {
  private readonly items: T[] = []
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length
  }

  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    const a = this.items
    a.push(item)
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1
      if (!this.before(a[i]!, a[parent]!)) break
      ;[a[i], a[parent]] = [a[parent]!, a[i]!]
      i = parent
    }
  }

  pop(): T | undefined {
    const a = this.items
    const top = a[0]
    const last = a.pop()
    if (a.length === 0 || last === undefined) return top
    a[0] = last
    for (let i = 0; ; ) {
      const l = 2 * i + 1
      const r = l + 1
      let min = i
      if (l < a.length && this.before(a[l]!, a[min]!)) min = l
      if (r < a.length && this.before(a[r]!, a[min]!)) min = r
      if (min === i) break
      ;[a[i], a[min]] = [a[min]!, a[i]!]
      i = min
    }
    return top
  }
}
