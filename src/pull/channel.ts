/** An unbounded async queue: producers push, one consumer iterates; close or fail ends it. */
export class Channel<T> implements AsyncIterable<T> {
  private items: T[] = []
  private waiting?: () => void
  private done = false
  private error: unknown = undefined

  push(item: T): void {
    if (this.done) return
    this.items.push(item)
    this.wake()
  }

  close(error?: unknown): void {
    if (this.done) return
    this.done = true
    this.error = error
    this.wake()
  }

  private wake(): void {
    const w = this.waiting
    this.waiting = undefined
    w?.()
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length) {
        yield this.items.shift() as T
        continue
      }
      if (this.done) {
        if (this.error !== undefined) throw this.error
        return
      }
      await new Promise<void>((r) => (this.waiting = r))
    }
  }
}
