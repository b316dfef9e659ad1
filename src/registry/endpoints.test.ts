import { describe, expect, test } from 'bun:test'
import { DigestMismatchError } from '../oci/digest.ts'
import {
  configuredCredentials,
  lookupPullEndpoints,
  shouldFallback,
  type Endpoint,
} from './endpoints.ts'
import { RegistryError, UnsupportedManifestError } from './errors.ts'

describe('lookupPullEndpoints', () => {
  test('docker.io: mirrors first (https assumed), then Hub', () => {
    const registries = { 'docker.io': { mirrors: ['mirror.example:5000', 'http://m2.local/'] } }
    expect(lookupPullEndpoints('docker.io', registries)).toEqual([
      { url: 'https://mirror.example:5000', mirror: true },
      { url: 'http://m2.local', mirror: true },
      { url: 'https://registry-1.docker.io', mirror: false },
    ])
    expect(lookupPullEndpoints('index.docker.io', registries)).toHaveLength(3)
    expect(lookupPullEndpoints('docker.io', {})).toEqual([
      { url: 'https://registry-1.docker.io', mirror: false },
    ])
  })

  test('docker.io with its endpoint overridden, configured under an alias', () => {
    expect(
      lookupPullEndpoints('docker.io', {
        'index.docker.io': { endpoint: 'http://hub.local:5000/' },
      })
    ).toEqual([{ url: 'http://hub.local:5000', mirror: false }])
  })

  test('other hosts: https, mirrors ignored', () => {
    expect(lookupPullEndpoints('ghcr.io', { 'ghcr.io': { mirrors: ['m.example'] } })).toEqual([
      { url: 'https://ghcr.io', mirror: false },
    ])
    expect(
      lookupPullEndpoints('quay.io', { 'quay.io': { endpoint: 'https://quay.internal' } })
    ).toEqual([{ url: 'https://quay.internal', mirror: false }])
  })

  test('loopback hosts get the http fallback after https', () => {
    for (const host of ['127.0.0.1:5000', '127.9.9.9', 'localhost:5000', '[::1]:5000']) {
      expect(lookupPullEndpoints(host, {})).toEqual([
        { url: `https://${host}`, mirror: false },
        { url: `http://${host}`, mirror: false, insecureFallback: true },
      ])
    }
    expect(lookupPullEndpoints('10.0.0.1:5000', {})).toHaveLength(1)
    expect(
      lookupPullEndpoints('localhost:5000', {
        'localhost:5000': { endpoint: 'http://localhost:5000' },
      })
    ).toEqual([{ url: 'http://localhost:5000', mirror: false }])
  })
})

describe('configuredCredentials', () => {
  test('per host, with Docker Hub aliases', () => {
    const registries = {
      'index.docker.io': { username: 'u', password: 'p' },
      'ghcr.io': { endpoint: 'https://x' },
    }
    expect(configuredCredentials('docker.io', registries)).toEqual({ username: 'u', password: 'p' })
    expect(configuredCredentials('ghcr.io', registries)).toBeUndefined()
    expect(configuredCredentials('quay.io', registries)).toBeUndefined()
  })
})

describe('shouldFallback', () => {
  const primary: Endpoint = { url: 'https://r.example', mirror: false }
  const mirror: Endpoint = { url: 'https://m.example', mirror: true }
  const info = { method: 'GET', url: 'https://r.example/v2/x/manifests/latest' }
  const notFound = new RegistryError({
    ...info,
    status: 404,
    errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }],
  })
  const network = new RegistryError({
    ...info,
    text: 'dial tcp r.example:443: connect: connection refused',
  })
  const unexpected = new RegistryError({
    ...info,
    status: 502,
    text: 'received unexpected HTTP status: 502 Bad Gateway',
  })
  const tokenRefused = new RegistryError({
    method: 'GET',
    url: 'https://auth/token',
    status: 401,
    errors: [{ code: 'UNAUTHORIZED', message: 'nope' }],
    outer: info,
  })

  test('transport errors and unexpected responses move on', () => {
    expect(shouldFallback(network, primary)).toBe(true)
    expect(shouldFallback(unexpected, primary)).toBe(true)
    expect(shouldFallback(tokenRefused, primary)).toBe(true)
    expect(shouldFallback(new DigestMismatchError('a', 'b'), primary)).toBe(true)
  })

  test('registry errors move on only after a mirror', () => {
    expect(shouldFallback(notFound, primary)).toBe(false)
    expect(shouldFallback(notFound, mirror)).toBe(true)
  })

  test('never after an abort, schema 1 or an unsupported media type', () => {
    expect(shouldFallback(new DOMException('aborted', 'AbortError'), mirror)).toBe(false)
    expect(shouldFallback(new UnsupportedManifestError('schema1', 'x', 'a:b'), mirror)).toBe(false)
    expect(shouldFallback(new UnsupportedManifestError('media-type', 'x', 'a:b'), mirror)).toBe(
      false
    )
  })

  test('the http fallback is skipped once https answered over TLS', () => {
    const https: Endpoint = { url: 'https://127.0.0.1:5000', mirror: false }
    const http: Endpoint = { url: 'http://127.0.0.1:5000', mirror: false, insecureFallback: true }
    expect(shouldFallback(unexpected, https, http)).toBe(false)
    expect(shouldFallback(network, https, http)).toBe(true)
  })
})
