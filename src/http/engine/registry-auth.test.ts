import { expect, test } from 'bun:test'
import { parseRegistryAuth } from './registry-auth.ts'

const b64url = (s: string) => Buffer.from(s).toString('base64url')

test('e30= and an empty header are anonymous', () => {
  expect(parseRegistryAuth('e30=')).toBeUndefined()
  expect(parseRegistryAuth('')).toBeUndefined()
  expect(parseRegistryAuth(undefined)).toBeUndefined()
})

test('username and password', () => {
  const h = b64url(JSON.stringify({ username: 'alice', password: 's3/cr+t?', serveraddress: 'x' }))
  expect(parseRegistryAuth(h)).toEqual({ username: 'alice', password: 's3/cr+t?' })
})

test('the auth field carries base64(user:pass)', () => {
  const h = b64url(JSON.stringify({ auth: Buffer.from('bob:pa:ss').toString('base64') }))
  expect(parseRegistryAuth(h)).toEqual({ username: 'bob', password: 'pa:ss' })
})

test('identity and registry tokens', () => {
  const h = b64url(JSON.stringify({ identitytoken: 'it', registrytoken: 'rt' }))
  expect(parseRegistryAuth(h)).toEqual({ identityToken: 'it', registryToken: 'rt' })
})

test('garbage is anonymous, as in moby', () => {
  expect(parseRegistryAuth('%%%')).toBeUndefined()
  expect(parseRegistryAuth(b64url('not json'))).toBeUndefined()
})
