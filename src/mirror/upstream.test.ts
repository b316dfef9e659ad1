import { describe, expect, test } from 'bun:test'
import { MirrorError } from './errors.ts'
import { resolveUpstream } from './upstream.ts'

const registries = { 'ghcr.io': {}, 'registry.example:5000': { endpoint: 'http://127.0.0.1:5100' } }
const resolve = (name: string, ns?: string) => resolveUpstream(name, ns, registries)

const refusal = (f: () => unknown): [number, string] => {
  try {
    f()
  } catch (err) {
    if (err instanceof MirrorError) return [err.status, err.code]
    throw err
  }
  throw new Error('not refused')
}

describe('resolveUpstream', () => {
  test('docker.io by default, with library/ for one-component names', () => {
    expect(resolve('busybox').repo).toEqual({ domain: 'docker.io', path: 'library/busybox' })
    expect(resolve('user/app').repo).toEqual({ domain: 'docker.io', path: 'user/app' })
    expect(resolve('docker.io/busybox').repo).toEqual({ domain: 'docker.io', path: 'library/busybox' })
    expect(resolve('index.docker.io/library/busybox').repo.domain).toBe('docker.io')
  })

  test("containerd's ns picks the registry; docker.io aliases are docker.io", () => {
    expect(resolve('org/app', 'ghcr.io').repo).toEqual({ domain: 'ghcr.io', path: 'org/app' })
    expect(resolve('busybox', 'registry-1.docker.io').repo).toEqual({
      domain: 'docker.io',
      path: 'library/busybox',
    })
    expect(resolve('app', 'registry.example:5000').endpoints.map((e) => e.url)).toEqual([
      'http://127.0.0.1:5100',
    ])
  })

  test('a first component naming a configured registry is a path prefix', () => {
    expect(resolve('ghcr.io/org/app').repo).toEqual({ domain: 'ghcr.io', path: 'org/app' })
  })

  test('docker.io mirrors from the config are not used by the mirror', () => {
    const u = resolveUpstream('busybox', undefined, { 'docker.io': { mirrors: ['https://m.example'] } })
    expect(u.endpoints.map((e) => e.url)).toEqual(['https://registry-1.docker.io'])
  })

  test('registries outside the config are refused: no open proxy', () => {
    expect(refusal(() => resolve('quay.io/org/app'))).toEqual([403, 'DENIED'])
    expect(refusal(() => resolve('org/app', 'quay.io'))).toEqual([403, 'DENIED'])
    expect(refusal(() => resolve('localhost/app'))).toEqual([403, 'DENIED'])
  })

  test('names Docker would not parse are NAME_INVALID', () => {
    for (const [name, ns] of [['Busybox'], ['a//b'], ['busybox:latest'], ['x', 'bad host!']]) {
      expect(refusal(() => resolve(name!, ns))).toEqual([400, 'NAME_INVALID'])
    }
  })
})
