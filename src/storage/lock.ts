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
