import { describe, expect, test } from 'bun:test'
import { contentRange, parseRange } from './range.ts'

describe('parseRange', () => {
  test('single ranges resolve against the size', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ offset: 0, length: 100 })
    expect(parseRange('bytes=900-', 1000)).toEqual({ offset: 900, length: 100 })
    expect(parseRange('bytes=990-5000', 1000)).toEqual({ offset: 990, length: 10 })
    expect(parseRange('bytes=-10', 1000)).toEqual({ offset: 990, length: 10 })
    expect(parseRange('bytes=-5000', 1000)).toEqual({ offset: 0, length: 1000 })
    expect(parseRange(' bytes = 5 - 5 ', 1000)).toEqual({ offset: 5, length: 1 })
  })

  test('ranges past the end are unsatisfiable', () => {
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable')
    expect(parseRange('bytes=-0', 1000)).toBe('unsatisfiable')
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable')
    expect(parseRange('bytes=2000-3000,5000-', 1000)).toBe('unsatisfiable')
  })

  test('malformed byte ranges are refused, as Go serves blobs', () => {
    for (const h of ['bytes=5-1', 'bytes=-', 'bytes=a-b', 'bytes=', 'bytes=1-2-3', 'bytes=0-1,x', 'bytes=99999999999999999999-']) {
      expect(parseRange(h, 1000)).toBe('unsatisfiable')
    }
  })

  test('other units and several ranges are ignored (the whole blob follows)', () => {
    for (const h of [undefined, '', 'items=0-1', 'garbage', 'bytes=0-1,5-6', 'bytes=0-1, 2000-']) {
      expect(parseRange(h, 1000)).toBeUndefined()
    }
  })

  test('Content-Range names the served bytes', () => {
    expect(contentRange({ offset: 10, length: 5 }, 100)).toBe('bytes 10-14/100')
  })
})
