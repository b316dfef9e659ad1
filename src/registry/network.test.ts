import { describe, expect, test } from 'bun:test'
import { isRetryableNetworkError, networkErrorText } from './network.ts'

const url = new URL('https://r.example/v2/')
// The shapes each runtime throws: Bun puts `code` on the TypeError, Node on its cause.
const bun = (code: string) => Object.assign(new TypeError(`${code}: boom`), { code })
const node = (code: string, message = 'boom') =>
  new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) })

describe('networkErrorText', () => {
  test('errno codes in Go words, from Bun and Node shapes alike', () => {
    for (const make of [bun, node]) {
      expect(networkErrorText(make('ECONNREFUSED'), url)).toBe(
        'dial tcp r.example:443: connect: connection refused'
      )
      expect(networkErrorText(make('ENOTFOUND'), url)).toBe(
        'dial tcp: lookup r.example: no such host'
      )
      expect(networkErrorText(make('ECONNRESET'), url)).toBe(
        'read tcp r.example:443: read: connection reset by peer'
      )
    }
    const aggregate = new TypeError('fetch failed', {
      cause: new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]),
    })
    expect(networkErrorText(aggregate, new URL('http://localhost:5000/v2/'))).toBe(
      'dial tcp localhost:5000: connect: connection refused'
    )
  })

  test('https to a plain-http port and certificate failures', () => {
    expect(networkErrorText(bun('EPROTO'), url)).toBe(
      'http: server gave HTTP response to HTTPS client'
    )
    expect(
      networkErrorText(
        node('ERR_SSL_WRONG_VERSION_NUMBER', 'ssl3_get_record:wrong version number'),
        url
      )
    ).toBe('http: server gave HTTP response to HTTPS client')
    expect(networkErrorText(node('DEPTH_ZERO_SELF_SIGNED_CERT'), url)).toBe(
      'tls: failed to verify certificate: x509: certificate signed by unknown authority'
    )
  })

  test('unknown failures keep their innermost message', () => {
    expect(networkErrorText(new TypeError('Network connection lost.'), url)).toBe(
      'Network connection lost.'
    )
  })
})

describe('isRetryableNetworkError', () => {
  test('resets and timeouts are retried; refusals, unknown hosts and TLS errors are not', () => {
    expect(isRetryableNetworkError(bun('ECONNRESET'))).toBe(true)
    expect(isRetryableNetworkError(node('UND_ERR_SOCKET', 'other side closed'))).toBe(true)
    expect(isRetryableNetworkError(new DOMException('timed out', 'TimeoutError'))).toBe(true)
    expect(isRetryableNetworkError(new TypeError('Network connection lost.'))).toBe(true)
    expect(isRetryableNetworkError(bun('ECONNREFUSED'))).toBe(false)
    expect(isRetryableNetworkError(node('ENOTFOUND'))).toBe(false)
    expect(isRetryableNetworkError(bun('EPROTO'))).toBe(false)
  })
})
