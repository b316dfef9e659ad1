import { describe, expect, test } from 'bun:test'
import { callerOf, parseBasic } from './caller.ts'
import { MirrorError } from './errors.ts'
import { createTokenSealer, TOKEN_SECONDS } from './tokens.ts'

const SECRET = 'a-token-secret-of-at-least-32-characters'

describe('tokens', () => {
  test('a token opens to the credentials it sealed, under the same secret only', async () => {
    const a = createTokenSealer(SECRET)
    const creds = { username: 'alice', password: 'sécret:with:colons' }
    const { token, expiresIn } = await a.issue(creds)
    expect(expiresIn).toBe(TOKEN_SECONDS)
    expect(await a.open(token)).toEqual({ credentials: creds })
    // Another instance with the same secret (another Worker isolate) opens it too.
    expect(await createTokenSealer(SECRET).open(token)).toEqual({ credentials: creds })
    expect(await createTokenSealer(`${SECRET}!`).open(token)).toBeNull()
    expect(await createTokenSealer().open(token)).toBeNull()
  })

  test('anonymous tokens open to nobody; identity and registry tokens survive', async () => {
    const s = createTokenSealer()
    expect(await s.open((await s.issue(undefined)).token)).toEqual({})
    const creds = { identityToken: 'refresh-me', registryToken: 'pass-through' }
    expect(await s.open((await s.issue(creds)).token)).toEqual({ credentials: creds })
  })

  test('expired, damaged and foreign tokens do not open', async () => {
    let now = 1_000_000
    const s = createTokenSealer(SECRET, () => now)
    const { token } = await s.issue({ username: 'alice', password: 'secret' })
    now += TOKEN_SECONDS * 1000 - 1
    expect(await s.open(token)).not.toBeNull()
    now += 1
    expect(await s.open(token)).toBeNull()
    now = 1_000_000
    const flipped = token.slice(0, 20) + (token[20] === 'A' ? 'B' : 'A') + token.slice(21)
    for (const t of [flipped, token.slice(0, -1), '', 'not base64!', 'eyJhbGciOiJub25lIn0']) {
      expect(await s.open(t)).toBeNull()
    }
  })
})

describe('callers', () => {
  const s = createTokenSealer(SECRET)
  const headers = (authorization?: string) =>
    new Headers(authorization ? { authorization } : {})

  test('nobody, Basic credentials or a token of ours', async () => {
    expect(await callerOf(headers(), s)).toEqual({ via: 'none' })
    const basic = `Basic ${btoa('alice:pa:ss')}`
    expect(await callerOf(headers(basic), s)).toEqual({
      credentials: { username: 'alice', password: 'pa:ss' },
      via: 'basic',
    })
    const { token } = await s.issue({ username: 'alice', password: 'secret' })
    expect(await callerOf(headers(`Bearer ${token}`), s)).toEqual({
      credentials: { username: 'alice', password: 'secret' },
      via: 'token',
    })
    const anonymous = (await s.issue(undefined)).token
    expect(await callerOf(headers(`bearer ${anonymous}`), s)).toEqual({ via: 'token' })
  })

  test('anything else is a 401', async () => {
    for (const h of ['Basic', 'Basic !!', `Basic ${btoa('nocolon')}`, 'Bearer x', 'Digest a=b']) {
      const err = await callerOf(headers(h), s).catch((e) => e)
      expect(err).toBeInstanceOf(MirrorError)
      expect([err.status, err.code]).toEqual([401, 'UNAUTHORIZED'])
    }
  })

  test('Basic is decoded as UTF-8', () => {
    const utf8 = btoa(String.fromCharCode(...new TextEncoder().encode('jürgen:pässword')))
    expect(parseBasic(`Basic ${utf8}`)).toEqual({ username: 'jürgen', password: 'pässword' })
  })
})
