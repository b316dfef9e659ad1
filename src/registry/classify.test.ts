import { describe, expect, test } from 'bun:test'
import { errorFromResponse } from './classify.ts'

const info = { method: 'GET', url: 'https://r.example/v2/x/manifests/latest' }
const json = (body: unknown, status: number, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  })

describe('errorFromResponse (distribution client rules, image-api-notes §5.3)', () => {
  test('the OCI envelope, with default messages filled in', async () => {
    const err = await errorFromResponse(
      json(
        {
          errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'x' } }],
        },
        404
      ),
      info
    )
    expect(err.errors).toEqual([
      { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'x' } },
    ])
    expect(err.dockerText()).toBe('manifest unknown: manifest unknown')
    expect(err.message).toBe(
      '[GET] "https://r.example/v2/x/manifests/latest": 404 Not Found: manifest unknown: manifest unknown'
    )
    const bare = await errorFromResponse(json({ errors: [{ code: 'NAME_UNKNOWN' }] }, 404), info)
    expect(bare.dockerText()).toBe('name unknown: repository name not known to registry')
  })

  test('Bearer challenge errors come first: insufficient_scope → DENIED, invalid_token → UNAUTHORIZED', async () => {
    const body = { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }
    const denied = await errorFromResponse(
      json(body, 401, {
        'www-authenticate':
          'Bearer realm="https://t",service="r",scope="repository:x:pull",error="insufficient_scope"',
      }),
      info
    )
    expect(denied.errors.map((e) => e.code)).toEqual(['DENIED', 'UNAUTHORIZED'])
    expect(denied.dockerText()).toBe('denied: requested access to the resource is denied')
    const invalid = await errorFromResponse(
      json(body, 401, {
        'www-authenticate':
          'Bearer realm="https://t",error="invalid_token",error_description="token expired"',
      }),
      info
    )
    expect(invalid.dockerText()).toBe('unauthorized: token expired')
  })

  test('bodies that are not JSON: 401, 403 and 429 get their code, the body is the message', async () => {
    const text = (status: number) =>
      new Response('go away', { status, headers: { 'content-type': 'text/plain' } })
    expect((await errorFromResponse(text(401), info)).dockerText()).toBe('unauthorized: go away')
    expect((await errorFromResponse(text(403), info)).dockerText()).toBe('denied: go away')
    expect((await errorFromResponse(text(429), info)).dockerText()).toBe('toomanyrequests: go away')
  })

  test('a 401 whose JSON has no errors is UNAUTHORIZED with the body as detail', async () => {
    const err = await errorFromResponse(json({ hello: 1 }, 401), info)
    expect(err.errors).toEqual([
      { code: 'UNAUTHORIZED', message: 'authentication required', detail: '{"hello":1}' },
    ])
  })

  test('token servers\' {"details": …} bodies', async () => {
    const err = await errorFromResponse(
      json({ details: 'incorrect username or password' }, 401),
      info
    )
    expect(err.dockerText()).toBe('unauthorized: incorrect username or password')
  })

  test('other unexpected bodies and statuses in Go words', async () => {
    const html = await errorFromResponse(
      new Response('<html>', { status: 404, headers: { 'content-type': 'text/html' } }),
      info
    )
    expect(html.errors).toEqual([])
    expect(html.dockerText()).toBe(
      `error parsing HTTP 404 response body: invalid character '<' looking for beginning of value: "<html>"`
    )
    const empty = await errorFromResponse(json({}, 400), info)
    expect(empty.dockerText()).toBe(
      'error parsing HTTP 400 response body: no error details found in HTTP response body: "{}"'
    )
    const server = await errorFromResponse(json({ errors: [{ code: 'UNKNOWN' }] }, 500), info)
    expect(server.dockerText()).toBe('received unexpected HTTP status: 500 Internal Server Error')
  })

  test('error bodies are read up to 64 KiB only', async () => {
    const err = await errorFromResponse(new Response('x'.repeat(200_000), { status: 403 }), info)
    expect(err.errors[0].message).toHaveLength(64 * 1024)
  })
})
