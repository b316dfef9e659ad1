/**
 * One in-flight job per key, shared by every caller that asks for it while it runs.
 * Concurrent pulls of the same blob therefore download it once. Each caller may leave
 * (its signal aborts) without hurting the others; the job itself is aborted only when
 * the last caller has left, so nobody waits on work that nobody wants.
 */

export type Progress = (current: number, total?: number) => void

interface Flight {
  promise: Promise<void>
  controller: AbortController
  listeners: Set<Progress>
  last?: [number, number | undefined]
}

export class SingleFlight {
  private flights = new Map<string, Flight>()

  /** Number of jobs running now (for metrics and tests). */
  get size(): number {
    return this.flights.size
  }

  /**
   * Runs `job` for `key`, or joins the run already in progress. `onProgress` hears the
   * shared job's progress, starting with its latest report.
   */
  run(
    key: string,
    job: (signal: AbortSignal, progress: Progress) => Promise<void>,
    opts: { signal?: AbortSignal; onProgress?: Progress } = {}
  ): Promise<void> {
    opts.signal?.throwIfAborted()
    let flight = this.flights.get(key)
    if (!flight) flight = this.start(key, job)
    const f = flight
    const listener: Progress = opts.onProgress ?? (() => {})
    f.listeners.add(listener)
    if (f.last) listener(...f.last)

    return new Promise<void>((resolve, reject) => {
      const leave = () => {
        f.listeners.delete(listener)
        // The job is abandoned only when no caller is left to want it.
        if (f.listeners.size === 0 && this.flights.get(key) === f) f.controller.abort()
        reject(opts.signal?.reason ?? new DOMException('aborted', 'AbortError'))
      }
      opts.signal?.addEventListener('abort', leave, { once: true })
      f.promise.then(
        () => {
          opts.signal?.removeEventListener('abort', leave)
          f.listeners.delete(listener)
          resolve()
        },
        (err) => {
          opts.signal?.removeEventListener('abort', leave)
          f.listeners.delete(listener)
          reject(err)
        }
      )
    })
  }

  private start(key: string, job: (signal: AbortSignal, progress: Progress) => Promise<void>): Flight {
    const controller = new AbortController()
    const flight: Flight = { promise: Promise.resolve(), controller, listeners: new Set() }
    const progress: Progress = (current, total) => {
      flight.last = [current, total]
      for (const l of flight.listeners) l(current, total)
    }
    flight.promise = (async () => {
      try {
        await job(controller.signal, progress)
      } finally {
        this.flights.delete(key)
      }
    })()
    // Callers observe the outcome through their own promises.
    flight.promise.catch(() => {})
    this.flights.set(key, flight)
    return flight
  }
}
