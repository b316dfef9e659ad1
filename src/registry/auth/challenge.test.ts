import { describe, expect, test } from 'bun:test'
import { parseChallenges, preferredChallenge } from './challenge.ts'

describe('parseChallenges', () => {
  test('Docker Hub style Bearer challenge, comma inside a quoted scope', () => {
    const h =
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"'
    expect(parseChallenges(h)).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:samalba/my-app:pull,push',
        },
      },
    ])
  })

  test('several challenges in one header, case and spacing as registries send them', () => {
    const h =
      'Basic realm="Registry Realm" , BEARER Realm = "https://a/token" ,Service=reg, error="insufficient_scope"'
    expect(parseChallenges(h)).toEqual([
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
      {
        scheme: 'bearer',
        params: { realm: 'https://a/token', service: 'reg', error: 'insufficient_scope' },
      },
    ])
  })

  test('escaped quotes and commas inside values', () => {
    expect(parseChallenges('Bearer realm="a\\"b,c",error_description="x, y"')).toEqual([
      { scheme: 'bearer', params: { realm: 'a"b,c', error_description: 'x, y' } },
    ])
  })

  test('schemes without parameters, token68 credentials and empty input', () => {
    expect(parseChallenges('Negotiate, Basic')).toEqual([
      { scheme: 'negotiate', params: {} },
      { scheme: 'basic', params: {} },
    ])
    expect(parseChallenges('Negotiate abc==, Basic realm=x')).toEqual([
      { scheme: 'negotiate', params: {} },
      { scheme: 'basic', params: { realm: 'x' } },
    ])
    expect(parseChallenges('')).toEqual([])
    expect(parseChallenges(null)).toEqual([])
  })

  test('an unterminated quoted value ends at the end of the header', () => {
    expect(parseChallenges('Bearer realm="https://a/token')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://a/token' } },
    ])
  })
})

describe('preferredChallenge', () => {
  test('Bearer (with a realm) wins over Basic, as in dockerd', () => {
    const [basic, bearer] = parseChallenges('Basic realm=x, Bearer realm="https://t"')
    expect(preferredChallenge([basic, bearer])).toBe(bearer)
    expect(preferredChallenge(parseChallenges('Bearer service=x, Basic realm=y'))?.scheme).toBe(
      'basic'
    )
    expect(preferredChallenge(parseChallenges('Negotiate'))).toBeUndefined()
  })
})
