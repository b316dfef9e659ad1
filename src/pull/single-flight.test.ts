import { describe, expect, test } from 'bun:test'
import { SingleFlight } from './single-flight.ts'

const tick = () => new Promise((r) => setTimeout(r, 5))

function gate() {
  let open!: () => void
  let fail!: (e: Error) => void
  const p = new Promise<void>((res, rej) => {
    open = res
    fail = rej
  })
  return { p, open, fail }
}

describe('SingleFlight', () => {
  test('concurrent callers share one run and all hear its progress', async () => {
    const sf = new SingleFlight()
    let runs = 0
    const g = gate()
    const heard: number[][] = [[], []]
    const job = async (_s: AbortSignal, progress: (n: number, t?: number) => void) => {
      runs++
      progress(1, 2)
      await g.p
      progress(2, 2)
    }
    const a = sf.run('k', job, { onProgress: (n) => heard[0]!.push(n) })
    const b = sf.run('k', job, { onProgress: (n) => heard[1]!.push(n) })
    expect(sf.size).toBe(1)
    g.open()
    await Promise.all([a, b])
    expect(runs).toBe(1)
    expect(heard).toEqual([[1, 2], [1, 2]])
    expect(sf.size).toBe(0)
  })

  test('a failure reaches every caller, and the next call starts afresh', async () => {
    const sf = new SingleFlight()
    const g = gate()
    const a = sf.run('k', () => g.p)
    const b = sf.run('k', () => g.p)
    g.fail(new Error('boom'))
    const settled = await Promise.allSettled([a, b])
    expect(settled.map((s) => s.status === 'rejected' && (s.reason as Error).message)).toEqual([
      'boom',
      'boom',
    ])
    await sf.run('k', async () => {})
  })

  test('one caller leaving does not abort the job others wait on', async () => {
    const sf = new SingleFlight()
    const g = gate()
    let jobSignal!: AbortSignal
    const job = async (s: AbortSignal) => {
      jobSignal = s
      await g.p
    }
    const leaver = new AbortController()
    const a = sf.run('k', job, { signal: leaver.signal })
    const b = sf.run('k', job)
    leaver.abort()
    await expect(a).rejects.toThrow()
    await tick()
    expect(jobSignal.aborted).toBe(false)
    g.open()
    await b
  })

  test('the job is aborted when the last caller leaves', async () => {
    const sf = new SingleFlight()
    let jobSignal!: AbortSignal
    const job = (s: AbortSignal) =>
      new Promise<void>((_res, rej) => {
        jobSignal = s
        s.addEventListener('abort', () => rej(s.reason))
      })
    const c1 = new AbortController()
    const c2 = new AbortController()
    const a = sf.run('k', job, { signal: c1.signal })
    const b = sf.run('k', job, { signal: c2.signal })
    c1.abort()
    await expect(a).rejects.toThrow()
    expect(jobSignal.aborted).toBe(false)
    c2.abort()
    await expect(b).rejects.toThrow()
    expect(jobSignal.aborted).toBe(true)
    await tick()
    expect(sf.size).toBe(0)
  })

  test('a late joiner hears the latest progress at once', async () => {
    const sf = new SingleFlight()
    const g = gate()
    const a = sf.run('k', async (_s, p) => {
      p(5, 10)
      await g.p
    })
    const heard: number[] = []
    const b = sf.run('k', async () => {}, { onProgress: (n) => heard.push(n) })
    expect(heard).toEqual([5])
    g.open()
    await Promise.all([a, b])
  })
})
