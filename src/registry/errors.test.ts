import { describe, expect, test } from 'bun:test'
import { errorDetailText, redactUrl, RegistryError } from './errors.ts'

describe('RegistryError', () => {
  test('transport failures read like Go url.Errors', () => {
    const err = new RegistryError({
      method: 'GET',
      url: 'http://127.0.0.1:1/v2/',
      text: 'dial tcp 127.0.0.1:1: connect: connection refused',
    })
    expect(err.transport).toBe(true)
    expect(err.dockerText()).toBe(
      'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused'
    )
    expect(err.message).toBe(
      '[GET] "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused'
    )
  })

  test('failures while authorizing are reported for the registry request', () => {
    const outer = { method: 'HEAD', url: 'https://r/v2/x/manifests/latest' }
    const refused = new RegistryError({
      method: 'GET',
      url: 'https://auth/token',
      status: 401,
      errors: [{ code: 'UNAUTHORIZED', message: 'bad' }],
      outer,
    })
    expect(refused.dockerText()).toBe('Head "https://r/v2/x/manifests/latest": unauthorized: bad')
    const down = new RegistryError({
      method: 'GET',
      url: 'https://auth/token',
      text: 'dial tcp auth:443: i/o timeout',
      outer,
    })
    expect(down.dockerText()).toBe(
      'Head "https://r/v2/x/manifests/latest": Get "https://auth/token": dial tcp auth:443: i/o timeout'
    )
  })

  test('codes Go does not know print as unknown', () => {
    expect(errorDetailText({ code: 'TOOMANYREQUESTS', message: 'slow' })).toBe(
      'toomanyrequests: slow'
    )
    expect(errorDetailText({ code: 'SOMETHING_NEW', message: 'hm' })).toBe('unknown: hm')
  })
})

describe('redactUrl', () => {
  test('drops userinfo and secret-looking query values, keeps the rest', () => {
    expect(
      redactUrl('https://user:pw@r.example/v2/?scope=a&access_token=abc&X-Amz-Signature=s&n=1')
    ).toBe(
      'https://REDACTED@r.example/v2/?scope=a&access_token=REDACTED&X-Amz-Signature=REDACTED&n=1'
    )
    expect(redactUrl('not a url')).toBe('not a url')
  })
})
