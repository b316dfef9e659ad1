import { describe, expect, test } from 'bun:test'
import { FilterArgs, InvalidFilterError } from './filters.ts'

const err = (fn: () => unknown) => {
  try {
    fn()
  } catch (e) {
    return { status: (e as InvalidFilterError).status, message: (e as Error).message }
  }
  throw new Error('no error')
}

describe('FilterArgs.fromJSON (filters.FromJSON)', () => {
  test('the set form, the legacy list form, and nothing', () => {
    const set = FilterArgs.fromJSON('{"dangling":{"true":true},"reference":{"a":true,"b":true}}')
    expect(set.get('reference')).toEqual(['a', 'b'])
    expect(set.boolOrDefault('dangling', false)).toBe(true)
    const list = FilterArgs.fromJSON('{"dangling":["false"],"label":["a=b"]}')
    expect(list.boolOrDefault('dangling', true)).toBe(false)
    expect(list.get('label')).toEqual(['a=b'])
    for (const none of [undefined, '', 'null']) expect(FilterArgs.fromJSON(none).has('dangling')).toBe(false)
  })

  test('anything else is a 400 invalid filter', () => {
    for (const raw of ['{', '[]', '"x"', '{"a":"b"}', '{"a":{"x":true},"b":["y"]}', '{"a":[1]}']) {
      expect(err(() => FilterArgs.fromJSON(raw))).toEqual({ status: 400, message: 'invalid filter' })
    }
  })
})

describe('validate, booleans, labels', () => {
  test("an unsupported key is invalid filter 'foo'", () => {
    const f = FilterArgs.fromJSON('{"dangling":{"true":true},"foo":{"x":true}}')
    expect(err(() => f.validate(['dangling']))).toEqual({ status: 400, message: "invalid filter 'foo'" })
  })

  test('booleans take exactly one of true/1 or false/0', () => {
    const bad = (json: string) => err(() => FilterArgs.fromJSON(json).boolOrDefault('dangling', false))
    expect(bad('{"dangling":{"maybe":true}}').message).toBe("invalid filter 'dangling=[maybe]'")
    expect(bad('{"dangling":{"true":true,"false":true}}').message).toBe(
      "invalid filter 'dangling=[true false]'"
    )
    expect(bad('{"dangling":{}}').message).toBe("invalid filter 'dangling'")
    // Go reads the bool: a value set to false names nothing.
    expect(bad('{"dangling":{"true":false}}').message).toBe("invalid filter 'dangling=[true]'")
    expect(FilterArgs.fromJSON('{"dangling":{"1":true}}').boolOrDefault('dangling', false)).toBe(true)
    expect(FilterArgs.fromJSON('{"dangling":{"0":true}}').boolOrDefault('dangling', true)).toBe(false)
    expect(FilterArgs.empty().boolOrDefault('dangling', true)).toBe(true)
  })

  test('label=k and label=k=v all have to match', () => {
    const f = FilterArgs.fromJSON('{"label":{"kind":true,"tier=web":true}}')
    expect(f.matchKVList('label', { kind: 'x', tier: 'web' })).toBe(true)
    expect(f.matchKVList('label', { kind: 'x', tier: 'db' })).toBe(false)
    expect(f.matchKVList('label', { tier: 'web' })).toBe(false)
    expect(f.matchKVList('label', null)).toBe(false)
    expect(f.matchKVList('other', null)).toBe(true)
    expect(FilterArgs.fromJSON('{"label":{"a=b=c":true}}').matchKVList('label', { a: 'b=c' })).toBe(true)
  })
})
