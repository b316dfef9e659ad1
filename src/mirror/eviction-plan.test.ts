import { describe, expect, test } from 'bun:test'
import type { Digest } from '../oci/digest.ts'
import { planEviction, type EvictionInput } from './eviction-plan.ts'

const d = (name: string) => `sha256:${name.padEnd(64, '0')}` as Digest
const name = (digest: Digest) => digest.slice(7).replace(/0+$/, '')

/** A store of `blobs` ([name, size, at]); manifests' children by name. */
function input(
  blobs: Array<[string, number, number]>,
  opts: {
    manifests?: Record<string, string[]>
    pinned?: string[]
    held?: string[]
    target: number
  }
): EvictionInput {
  const children = new Map(
    Object.entries(opts.manifests ?? {}).map(([m, cs]) => [d(m), cs.map(d)] as const)
  )
  const held = new Set((opts.held ?? []).map(d))
  return {
    blobs: new Map(blobs.map(([n, size, at]) => [d(n), { size, at }])),
    pinned: new Set((opts.pinned ?? []).map(d)),
    manifests: new Set(Object.keys(opts.manifests ?? {}).map(d)),
    children: (x) => children.get(x) ?? [],
    held: (x) => held.has(x),
    target: opts.target,
  }
}

const names = (plan: { manifests: Digest[]; blobs: Digest[] }) => ({
  manifests: plan.manifests.map(name),
  blobs: plan.blobs.map(name),
})

describe('planEviction', () => {
  test('under the target nothing goes', () => {
    const plan = planEviction(input([['a', 10, 1]], { target: 10 }))
    expect(names(plan)).toEqual({ manifests: [], blobs: [] })
    expect([plan.before, plan.after]).toEqual([10, 10])
  })

  test('unreferenced blobs go least recently used first, just enough of them', () => {
    const plan = planEviction(input([['c', 10, 3], ['a', 10, 1], ['b', 10, 2]], { target: 15 }))
    expect(names(plan).blobs).toEqual(['a', 'b'])
    expect(plan.after).toBe(10)
  })

  test('pinned and held blobs stay, even when the target cannot be met', () => {
    const plan = planEviction(
      input([['a', 10, 1], ['b', 10, 2], ['c', 10, 3]], { pinned: ['a'], held: ['b'], target: 0 })
    )
    expect(names(plan).blobs).toEqual(['c'])
    expect(plan.after).toBe(20)
  })

  test('a manifest goes whole when least recently used, then the blobs only it held', () => {
    const plan = planEviction(
      input(
        [['m', 1, 5], ['mc', 2, 6], ['l1', 10, 4], ['shared', 10, 4], ['o', 10, 7],
         ['n', 1, 10], ['nc', 2, 10]],
        { manifests: { m: ['mc', 'l1', 'shared'], n: ['nc', 'shared'] }, target: 20 }
      )
    )
    // m (5) is older than the orphan o (7): forgotten first; shared stays, n still holds it.
    expect(names(plan)).toEqual({ manifests: ['m'], blobs: ['l1', 'm', 'mc', 'o'] })
    expect(plan.after).toBe(13)
  })

  test('a manifest listed by an index that stays keeps its blobs', () => {
    const plan = planEviction(
      input(
        [['child', 1, 1], ['layer', 10, 2], ['index', 1, 9], ['o', 5, 5]],
        // `child` is a revision and is listed by the index `index`.
        { manifests: { child: ['layer'], index: ['child'] }, target: 8 }
      )
    )
    // Forgetting child frees nothing (index holds it); the orphan goes; then the index, which
    // frees child and its layer: enough, so the index's own bytes (used last) stay.
    expect(names(plan)).toEqual({ manifests: ['child', 'index'], blobs: ['o', 'child', 'layer'] })
    expect(plan.after).toBe(1)
  })

  test('a held manifest is not forgotten; the next one is', () => {
    const plan = planEviction(
      input([['m', 1, 1], ['ml', 10, 1], ['n', 1, 2], ['nl', 10, 2]], {
        manifests: { m: ['ml'], n: ['nl'] },
        held: ['m'],
        target: 12,
      })
    )
    expect(names(plan)).toEqual({ manifests: ['n'], blobs: ['n', 'nl'] })
  })

  test('a layer listed twice by one manifest is freed once', () => {
    const plan = planEviction(
      input([['m', 1, 1], ['l', 10, 2]], { manifests: { m: ['l', 'l'] }, target: 0 })
    )
    expect(names(plan)).toEqual({ manifests: ['m'], blobs: ['m', 'l'] })
    expect(plan.after).toBe(0)
  })
})
