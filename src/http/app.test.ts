import { describe, expect, test } from 'bun:test'
import { assemble } from '../runtime/assemble.ts'
import { createMemoryDriver } from '../storage/memory.ts'
import { parseFileConfig } from '../config.ts'

const app = assemble({
  config: parseFileConfig('{}'),
  driver: createMemoryDriver(),
  fetch: () => Promise.reject(new Error('no upstream in this test')),
  runtime: { name: 'bun', version: '1', os: 'linux', arch: 'amd64' },
})

const json = async (res: Response) => ({
  status: res.status,
  type: res.headers.get('content-type'),
  body: (await res.json()) as any,
})

describe('transport rules (image-api-notes §1)', () => {
  test('GET /_ping answers OK with the negotiation headers', async () => {
    const res = await app.request('/_ping')
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('OK')
    expect(res.headers.get('api-version')).toBe('1.51')
    expect(res.headers.get('ostype')).toBe('linux')
    expect(res.headers.get('cache-control')).toBe('no-cache, no-store, must-revalidate')
  })

  test('HEAD /_ping has the headers and no body', async () => {
    const res = await app.request('/_ping', { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.headers.get('api-version')).toBe('1.51')
    expect(await res.text()).toBe('')
  })

  test('every route answers under /v1.NN/ in [1.24, 1.51]', async () => {
    for (const v of ['1.24', '1.41', '1.50', '1.51']) {
      const res = await app.request(`/v${v}/version`)
      expect(res.status).toBe(200)
      expect(((await res.json()) as any).ApiVersion).toBe('1.51')
    }
  })

  test('a version that is too new or too old gets Docker’s 400', async () => {
    expect(await json(await app.request('/v1.99/version'))).toEqual({
      status: 400,
      type: 'application/json',
      body: { message: 'client version 1.99 is too new. Maximum supported API version is 1.51' },
    })
    expect((await json(await app.request('/v1.12/_ping'))).body.message).toBe(
      'client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version'
    )
  })

  test('unknown paths and wrong methods are 404 page not found, as JSON', async () => {
    for (const [path, method] of [
      ['/nope', 'GET'],
      ['/v1.50/images/create', 'GET'],
    ] as const) {
      expect(await json(await app.request(path, { method }))).toEqual({
        status: 404,
        type: 'application/json',
        body: { message: 'page not found' },
      })
    }
  })

  test('OPTIONS is a CORS preflight: 200, empty', async () => {
    const res = await app.request('/v1.50/images/create', { method: 'OPTIONS' })
    expect(res.status).toBe(200)
  })

  test('/version describes the server', async () => {
    const { body } = await json(await app.request('/version'))
    expect(body).toMatchObject({ ApiVersion: '1.51', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64' })
  })

  test('bad query parameters are a {"message"} 400, not zod’s shape', async () => {
    const res = await app.request('/images/search', { method: 'GET' })
    const { status, type, body } = await json(res)
    expect(status).toBe(400)
    expect(type).toBe('application/json')
    expect(body.message).toStartWith('invalid parameter term: ')
  })

  test('a registry outside the allow-list is refused before any fetch', async () => {
    const res = await app.request('/images/create?fromImage=evil.example/x&tag=1', { method: 'POST' })
    expect(await json(res)).toEqual({
      status: 403,
      type: 'application/json',
      body: {
        message: 'registry evil.example is not allowed by this edgepull: add it to "registries" in the config',
      },
    })
  })

  test('the OpenAPI document is served', async () => {
    const { status, body } = await json(await app.request('/openapi.json'))
    expect(status).toBe(200)
    expect(body.openapi).toBe('3.1.0')
    expect(Object.keys(body.paths)).toContain('/images/create')
  })
})
