/**
 * One mutation at a time per image store: dockerd holds its reference and image store locks
 * across an rmi, so two deletes never both decide a shared blob is still needed by the other.
 */

const queues = new WeakMap<object, Promise<unknown>>()

/** Runs `job` once every earlier job queued on `store` has settled. */
export function exclusive<T>(store: object, job: () => Promise<T>): Promise<T> {
  const run = (queues.get(store) ?? Promise.resolve()).then(job)
  queues.set(store, run.catch(() => {}))
  return run
}

const leases = new WeakMap<object, Map<string, number>>()

/**
 * Marks `digests` as needed by work in flight on `store`, the blob store (a pull from its
 * first layer to its image record, a mirror fill until its link is written) until the
 * returned function is called. rmi, prune and eviction leave leased
 * blobs alone, as containerd's leases keep content from its garbage collector; without
 * them a prune running in a loop can free a pull's layers faster than it fetches them back.
 * Per process, like the lock.
 */
export function lease(store: object, digests: Iterable<string>): () => void {
  let held = leases.get(store)
  if (!held) leases.set(store, (held = new Map()))
  const counts = held
  const mine = [...new Set(digests)]
  for (const d of mine) counts.set(d, (counts.get(d) ?? 0) + 1)
  let released = false
  return () => {
    if (released) return
    released = true
    for (const d of mine) {
      const n = (counts.get(d) ?? 1) - 1
      if (n > 0) counts.set(d, n)
      else counts.delete(d)
    }
  }
}

/** True while some `lease` on `store` holds `digest`. */
export const isLeased = (store: object, digest: string): boolean => (leases.get(store)?.get(digest) ?? 0) > 0
