import { describe, expect, test } from 'bun:test'
import { addressClass, isLoopbackHost } from './hosts.ts'
import { formatAddress, parseAddress, parsePrefix } from './ip.ts'
import { networkPolicy } from './network-policy.ts'

const kind = (text: string) => {
  const a = parseAddress(text)
  if (!a) throw new Error(`${text} did not parse`)
  return addressClass(a)
}

describe('address parsing', () => {
  test.each([
    ['127.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'], // decimal
    ['0x7f000001', '127.0.0.1'], // hex
    ['0177.0.0.1', '127.0.0.1'], // octal
    ['127.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['10.0.0.5.', '10.0.0.5'],
    ['[::1]', '::1'],
    ['::ffff:127.0.0.1', '127.0.0.1'], // IPv4-mapped is read as the IPv4 address
    ['::ffff:7f00:1', '127.0.0.1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['2001:db8::8a2e:370:7334', '2001:db8::8a2e:370:7334'],
  ])('%s → %s', (text, canonical) => {
    expect(formatAddress(parseAddress(text)!)).toBe(canonical)
  })

  test.each(['registry.example', '1.2.3.4.5', '256.0.0.1', '1:2:3:4:5:6:7:8:9', '::1::2', '::ffff:01.2.3.4', ''])(
    '%s is not an address',
    (text) => expect(parseAddress(text)).toBeUndefined()
  )

  test('prefixes check their length per family', () => {
    expect(parsePrefix('10.0.0.0/8').bits).toBe(104)
    expect(parsePrefix('fd00::/8').bits).toBe(8)
    expect(() => parsePrefix('10.0.0.0/33')).toThrow('the prefix length must be 0 to 32')
    expect(() => parsePrefix('db.internal/8')).toThrow('is not an IP address or CIDR')
  })
})

describe('address classes', () => {
  test.each([
    ['127.0.0.2', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['10.0.0.5', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['fd12:3456::1', 'a private address'],
    ['fc00::1', 'a private address'],
    ['169.254.169.254', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['febf::1', 'a link-local address'],
    ['100.64.0.1', 'a carrier-grade NAT address'],
    ['100.127.255.255', 'a carrier-grade NAT address'],
    ['0.0.0.0', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['224.0.0.1', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['255.255.255.255', 'a reserved address'],
    ['::ffff:169.254.169.254', 'a link-local address'], // IPv4-mapped
    ['::10.0.0.1', 'a private address'], // IPv4-compatible
    ['64:ff9b::a9fe:a9fe', 'a link-local address'], // NAT64 of 169.254.169.254
    ['2002:7f00:1::', 'a loopback address'], // 6to4 of 127.0.0.1
    ['2130706433', 'a loopback address'],
  ])('%s is %s', (text, expected) => expect(kind(text)).toBe(expected))

  test.each(['1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '64:ff9b::101:101', '169.255.0.1'])(
    '%s is public',
    (text) => expect(kind(text)).toBeUndefined()
  )

  test('loopback hosts (dockerd plain-http fallback) by name, address or port', () => {
    for (const h of ['localhost:5000', 'x.localhost', '127.0.0.2:80', '[::1]:5000', '[::ffff:127.0.0.1]']) {
      expect(isLoopbackHost(h)).toBe(true)
    }
    for (const h of ['registry.example', '10.0.0.1:5000', 'localhost.example']) {
      expect(isLoopbackHost(h)).toBe(false)
    }
  })
})

describe('network policy', () => {
  const policy = networkPolicy(
    {
      '127.0.0.1:5000': {},
      'docker.io': { endpoint: 'http://registry.lan:5001', mirrors: ['https://[fd00::5]:443'] },
    },
    ['10.1.0.0/16', 'build.internal', '169.254.169.254', '::ffff:192.168.7.7']
  )

  test('the configured registries are trusted by hostname, on any port', () => {
    for (const h of ['127.0.0.1', 'registry.lan', 'fd00::5', '[fd00::5]', 'docker.io', 'REGISTRY.LAN.']) {
      expect(policy.trusts(h)).toBe(true)
      expect(policy.hostRefusal(h)).toBeUndefined()
    }
    expect(policy.addressRefusal('registry.lan', ['10.9.9.9'])).toBeUndefined()
  })

  test('privateHosts entries: CIDRs, names and addresses, in any spelling', () => {
    for (const h of ['10.1.2.3', '::ffff:10.1.2.3', 'build.internal', '169.254.169.254', '192.168.7.7']) {
      expect(policy.hostRefusal(h)).toBeUndefined()
    }
    expect(policy.addressRefusal('cdn.example', ['10.1.200.1', '8.8.8.8'])).toBeUndefined()
  })

  test('everything else private is refused, saying what, why and how to allow it', () => {
    expect(policy.hostRefusal('10.0.0.5')).toBe(
      'refusing to connect to 10.0.0.5: a private address; list it in upstream.privateHosts to allow it'
    )
    expect(policy.hostRefusal('127.0.0.2')).toStartWith('refusing to connect to 127.0.0.2: a loopback address')
    expect(policy.hostRefusal('[::ffff:7f00:2]')).toStartWith('refusing to connect to 127.0.0.2: a loopback')
    expect(policy.hostRefusal('localhost')).toStartWith('refusing to connect to localhost: a loopback')
    expect(policy.hostRefusal('api.localhost.')).toStartWith('refusing to connect to api.localhost: a loopback')
    expect(policy.hostRefusal('169.254.170.2')).toStartWith('refusing to connect to 169.254.170.2: a link-local')
    expect(policy.hostRefusal('192.168.7.8')).toStartWith('refusing to connect to 192.168.7.8: a private')
  })

  test('names are judged by every address they resolve to (DNS rebinding)', () => {
    expect(policy.hostRefusal('evil.example')).toBeUndefined()
    expect(policy.addressRefusal('evil.example', ['93.184.216.34'])).toBeUndefined()
    expect(policy.addressRefusal('evil.example', ['93.184.216.34', '10.0.0.5'])).toBe(
      'refusing to connect to evil.example (10.0.0.5): a private address; ' +
        'list it in upstream.privateHosts to allow it'
    )
    expect(policy.addressRefusal('evil.example', ['::ffff:127.0.0.3'])).toStartWith(
      'refusing to connect to evil.example (127.0.0.3): a loopback address'
    )
    // A configured registry's address is reachable anyway, under whatever name.
    expect(policy.addressRefusal('evil.example', ['127.0.0.1'])).toBeUndefined()
    expect(policy.addressRefusal('evil.example', ['fe80::1%eth0'])).toContain('a link-local address')
  })

  test('a malformed privateHosts CIDR is named at start', () => {
    expect(() => networkPolicy({}, ['10.0.0.0/40'])).toThrow(
      'upstream.privateHosts: "10.0.0.0/40": the prefix length must be 0 to 32'
    )
  })
})
