import { describe, expect, test } from 'bun:test'
import { ConfigError, parseFileConfig } from '../config.ts'
import { globRegExp, tagTtl } from './ttl.ts'

describe('tag TTLs from the config', () => {
  test('defaults: 300 s for every tag', () => {
    const { mirror, adminToken } = parseFileConfig('{}')
    expect(mirror).toEqual({ tagTtlSeconds: 300, tagTtl: [] })
    expect(adminToken).toBeUndefined()
    expect(tagTtl(mirror)({ domain: 'docker.io', path: 'library/busybox' }, 'latest')).toBe(300_000)
  })

  test('the first matching rule wins; patterns without a host mean docker.io', () => {
    const { mirror } = parseFileConfig(
      JSON.stringify({
        mirror: {
          tagTtlSeconds: 600,
          tagTtl: [
            { pattern: 'library/*', tag: 'v*', seconds: 86400 },
            { pattern: 'library/*', seconds: 60 },
            { pattern: 'ghcr.io/org/**', seconds: 5 },
            { pattern: '**/nightly', seconds: 0 },
          ],
        },
      })
    )
    const ttl = tagTtl(mirror)
    const hub = (path: string) => ({ domain: 'docker.io', path })
    expect(ttl(hub('library/busybox'), 'v1.2')).toBe(86_400_000)
    expect(ttl(hub('library/busybox'), 'latest')).toBe(60_000)
    expect(ttl(hub('library/a/b'), 'latest')).toBe(600_000)
    expect(ttl({ domain: 'ghcr.io', path: 'org/team/app' }, 'x')).toBe(5000)
    expect(ttl({ domain: 'quay.io', path: 'x/nightly' }, 'x')).toBe(0)
    expect(ttl({ domain: 'ghcr.io', path: 'library/busybox' }, 'latest')).toBe(600_000)
  })

  test('globs: * stays within a segment, ** crosses them, the rest is literal', () => {
    expect(globRegExp('a/*').test('a/b')).toBe(true)
    expect(globRegExp('a/*').test('a/b/c')).toBe(false)
    expect(globRegExp('a/**').test('a/b/c')).toBe(true)
    expect(globRegExp('a.b').test('aXb')).toBe(false)
  })

  test('bad values are refused with the field named', () => {
    expect(() => parseFileConfig('{"mirror":{"tagTtlSeconds":-1}}')).toThrow(ConfigError)
    expect(() => parseFileConfig('{"mirror":{"tagTtl":[{"pattern":"x"}]}}')).toThrow(/mirror\.tagTtl\.0\.seconds/)
    expect(() => parseFileConfig('{"adminToken":"short"}')).toThrow(/adminToken/)
  })
})
