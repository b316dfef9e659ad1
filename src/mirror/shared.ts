/**
 * One in-flight promise per key: concurrent requests for the same manifest or tag share one
 * upstream exchange. The work is never cancelled by a caller leaving (it is small, and its
 * result is cached for the next caller); the key is free again as soon as it settles.
 */
export class Shared {
  private readonly running = new Map<string, Promise<unknown>>()

  /** Runs `work` for `key`, or returns the run in flight. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    let p = this.running.get(key) as Promise<T> | undefined
    if (!p) {
      p = work().finally(() => this.running.delete(key))
      p.catch(() => {}) // callers observe the outcome; nobody may be left to
      this.running.set(key, p)
    }
    return p
  }

  /** Keys in flight (for tests and metrics). */
  get size(): number {
    return this.running.size
  }
}
