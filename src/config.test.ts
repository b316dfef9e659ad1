import { describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig, parseFileConfig } from './config.ts'

const noFile = () => {
  throw new Error('ENOENT: no such file')
}

describe('loadConfig', () => {
  test('defaults bind loopback, store in ./data, amd64, 3 downloads', () => {
    const c = loadConfig({}, noFile)
    expect(c.host).toBe('127.0.0.1')
    expect(c.port).toBe(5000)
    expect(c.dataDir).toBe('./data')
    expect(c.platform).toBe('linux/amd64')
    expect(c.maxConcurrentDownloads).toBe(3)
    expect(c.registries).toEqual({})
  })

  test('reads env and the JSON file', () => {
    const file = JSON.stringify({
      registries: { 'docker.io': { endpoint: 'http://127.0.0.1:5100', mirrors: ['https://m.example'] } },
      platform: 'linux/arm64/v8',
    })
    const c = loadConfig({ PORT: '8080', HOST: '0.0.0.0', EDGEPULL_CONFIG: '/etc/e.json' }, () => file)
    expect(c.port).toBe(8080)
    expect(c.host).toBe('0.0.0.0')
    expect(c.registries['docker.io']?.endpoint).toBe('http://127.0.0.1:5100')
    expect(c.platform).toBe('linux/arm64/v8')
  })

  test('a bad env value names the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' }, noFile)).toThrow(/PORT:/)
  })

  test('an unreadable config file names the path', () => {
    expect(() => loadConfig({ EDGEPULL_CONFIG: '/nope.json' }, noFile)).toThrow(
      'cannot read EDGEPULL_CONFIG /nope.json: ENOENT: no such file'
    )
  })
})

describe('parseFileConfig', () => {
  test('names the bad field', () => {
    const text = JSON.stringify({ registries: { 'docker.io': { endpoint: 'ftp://x' } } })
    expect(() => parseFileConfig(text, 'e.json')).toThrow(
      /e\.json:\n {2}registries\.docker\.io\.endpoint: must be an http\(s\) URL/
    )
  })

  test('rejects unknown keys, so typos do not pass silently', () => {
    expect(() => parseFileConfig('{"registry": {}}')).toThrow(ConfigError)
    expect(() => parseFileConfig('{"registries": {"a": {"user": "x"}}}')).toThrow(/registries\.a/)
  })

  test('rejects non-JSON with the parser message', () => {
    expect(() => parseFileConfig('{', 'f.json')).toThrow(/f\.json: not JSON/)
  })

  test('index.docker.io is folded into docker.io', () => {
    const c = parseFileConfig('{"registries":{"index.docker.io":{"username":"u"}}}')
    expect(c.registries['docker.io']?.username).toBe('u')
    expect(c.registries['index.docker.io']).toBeUndefined()
  })

  test('platform format is checked', () => {
    expect(() => parseFileConfig('{"platform":"amd64"}')).toThrow(/platform: must look like/)
  })
})

describe('the mirror budget and the token secret', () => {
  test('maxBytes takes bytes or a size with a unit', () => {
    const budget = (v: unknown) =>
      parseFileConfig(JSON.stringify({ mirror: { maxBytes: v } })).mirror.maxBytes
    expect(budget(1000)).toBe(1000)
    expect(budget('50GiB')).toBe(50 * 2 ** 30)
    expect(budget('1.5 MB')).toBe(1_500_000)
    expect(budget('1024')).toBe(1024)
    expect(parseFileConfig('{}').mirror.maxBytes).toBeUndefined()
    expect(() => budget('lots')).toThrow(/mirror\.maxBytes: must be bytes or like "50GiB"/)
    expect(() => budget(-1)).toThrow(/mirror\.maxBytes/)
  })

  test('tokenSecret needs 32 characters; EDGEPULL_TOKEN_SECRET overrides it', () => {
    const short = () => parseFileConfig('{"tokenSecret":"short"}')
    expect(short).toThrow(/tokenSecret: must be at least 32/)
    const file = JSON.stringify({ tokenSecret: 'f'.repeat(32) })
    const env = { EDGEPULL_CONFIG: '/c.json' }
    expect(loadConfig(env, () => file).tokenSecret).toBe('f'.repeat(32))
    const secret = 'e'.repeat(40)
    const overridden = loadConfig({ ...env, EDGEPULL_TOKEN_SECRET: secret }, () => file)
    expect(overridden.tokenSecret).toBe(secret)
    const bad = () => loadConfig({ EDGEPULL_TOKEN_SECRET: 'x' }, noFile)
    expect(bad).toThrow(/EDGEPULL_TOKEN_SECRET/)
  })
})

describe('upstream timeouts', () => {
  test('seconds, fractions allowed, 0 for none; unset leaves the client defaults', () => {
    const upstream = (v: unknown) => parseFileConfig(JSON.stringify({ upstream: v })).upstream
    expect(upstream({ headersTimeoutSeconds: 0.5, idleTimeoutSeconds: 0 })).toMatchObject({
      headersTimeoutSeconds: 0.5,
      idleTimeoutSeconds: 0,
    })
    expect(parseFileConfig('{}').upstream.headersTimeoutSeconds).toBeUndefined()
    expect(() => upstream({ idleTimeoutSeconds: -1 })).toThrow(/upstream\.idleTimeoutSeconds/)
    expect(() => upstream({ headersTimeoutSeconds: '30' })).toThrow(/upstream\.headersTimeoutSeconds/)
  })
})

describe('request limits', () => {
  test('generous defaults when the section or a key is absent', () => {
    expect(parseFileConfig('{}').limits).toEqual({ bodyBytes: 64 * 2 ** 30, jsonBytes: 2 ** 20, gzipRatio: 100 })
    expect(parseFileConfig('{"limits":{"jsonBytes":4096}}').limits).toEqual({
      bodyBytes: 64 * 2 ** 30,
      jsonBytes: 4096,
      gzipRatio: 100,
    })
  })

  test('sizes take bytes or a unit; bad values name the field', () => {
    const c = parseFileConfig('{"limits":{"bodyBytes":"10GiB","jsonBytes":"64KiB","gzipRatio":20}}')
    expect(c.limits).toEqual({ bodyBytes: 10 * 2 ** 30, jsonBytes: 64 * 1024, gzipRatio: 20 })
    expect(() => parseFileConfig('{"limits":{"bodyBytes":"lots"}}')).toThrow('limits.bodyBytes: must be bytes or like "50GiB"')
    expect(() => parseFileConfig('{"limits":{"gzipRatio":0.5}}')).toThrow('limits.gzipRatio')
    expect(() => parseFileConfig('{"limits":{"headerBytes":1}}')).toThrow(ConfigError)
  })
})
