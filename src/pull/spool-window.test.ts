import { describe, expect, test } from 'bun:test'
import { EvictedError, SpoolWindow } from './spool-window.ts'

const bytes = (...xs: number[]) => Uint8Array.from(xs)

describe('SpoolWindow', () => {
  test('gathers chunks into blocks, hands full ones on, reads are views within one block', () => {
    const w = new SpoolWindow(100, 4)
    expect(w.push(bytes(0, 1, 2))).toEqual([])
    const full = w.push(bytes(3, 4, 5))
    expect(full.map((b) => [...b])).toEqual([[0, 1, 2, 3]])
    expect(w.end).toBe(6)
    const r = w.read(1, 10)
    expect([...r]).toEqual([1, 2, 3]) // stops at the block's end
    expect(r.buffer).toBe(full[0]!.buffer) // a view, not a copy
    expect([...w.read(4, 10)]).toEqual([4, 5]) // the block being filled, as far as it is
    expect(() => w.read(6, 1)).toThrow(/outside/)
    expect([...w.finish()!]).toEqual([4, 5])
    expect(w.finish()).toBeUndefined()
  })

  test('drops whole blocks that fall out of the window; reads there are EvictedError', () => {
    const w = new SpoolWindow(4, 3)
    for (let i = 0; i < 5; i++) w.push(new Uint8Array(3).fill(i))
    expect(w.end).toBe(15)
    expect(w.start).toBe(9) // keeps the blocks still needed to hold the last 4 bytes
    expect(() => w.read(8, 1)).toThrow(EvictedError)
    expect([...w.read(9, 5)]).toEqual([3, 3, 3])
    expect([...w.read(13, 5)]).toEqual([4, 4])
  })

  test('a chunk larger than a block fills several', () => {
    const w = new SpoolWindow(100, 4)
    const full = w.push(Uint8Array.from({ length: 10 }, (_, i) => i))
    expect(full.map((b) => [...b])).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]])
    expect([...w.finish()!]).toEqual([8, 9])
  })
})
