import { describe, expect, test } from 'bun:test'
import { parseJsonPlatform as parseJsonDirect } from './platform-json.ts'
import {
  matchManifests as matchDirect,
  platformMatches as matchesDirect,
} from './platform-match.ts'
import {
  DEFAULT_PLATFORM,
  formatPlatform,
  matchManifests,
  normalizePlatform,
  parseJsonPlatform,
  parsePlatform,
  PlatformError,
  platformMatches,
  type PlatformSpec,
} from './platform.ts'

const p = (os: string, architecture: string, variant?: string): PlatformSpec =>
  variant ? { os, architecture, variant } : { os, architecture }
/** `os/arch[/variant]` taken literally, without parsePlatform's normalisation. */
const raw = (s: string): PlatformSpec => {
  const [os = '', architecture = '', variant] = s.split('/')
  return p(os, architecture, variant)
}
describe('parsePlatform', () => {
  // [specifier, parsed, as Docker formats it]
  test.each([
    ['linux/amd64', p('linux', 'amd64'), 'linux/amd64'],
    ['linux/amd64/v1', p('linux', 'amd64'), 'linux/amd64'],
    ['linux/amd64/v3', p('linux', 'amd64', 'v3'), 'linux/amd64/v3'],
    ['linux/x86_64', p('linux', 'amd64'), 'linux/amd64'],
    ['linux/x86-64', p('linux', 'amd64'), 'linux/amd64'],
    ['linux/arm64', p('linux', 'arm64'), 'linux/arm64'],
    ['linux/aarch64', p('linux', 'arm64'), 'linux/arm64'],
    // containerd re-adds v8 when the variant was spelled out, so Docker prints it back.
    ['linux/arm64/v8', p('linux', 'arm64', 'v8'), 'linux/arm64/v8'],
    ['linux/aarch64/v8', p('linux', 'arm64', 'v8'), 'linux/arm64/v8'],
    ['linux/arm64/8', p('linux', 'arm64', 'v8'), 'linux/arm64/v8'],
    ['linux/arm64/v8.2', p('linux', 'arm64', 'v8.2'), 'linux/arm64/v8.2'],
    // …and leaves arm's default v7 off the two-part forms.
    ['linux/arm', p('linux', 'arm'), 'linux/arm'],
    ['linux/armhf', p('linux', 'arm'), 'linux/arm'],
    ['linux/arm/v7', p('linux', 'arm', 'v7'), 'linux/arm/v7'],
    ['linux/arm/7', p('linux', 'arm', 'v7'), 'linux/arm/v7'],
    ['linux/arm/6', p('linux', 'arm', 'v6'), 'linux/arm/v6'],
    ['linux/armel', p('linux', 'arm', 'v6'), 'linux/arm/v6'],
    ['linux/i386', p('linux', '386'), 'linux/386'],
    ['linux/386', p('linux', '386'), 'linux/386'],
    ['Linux/AMD64', p('linux', 'amd64'), 'linux/amd64'],
    ['linux/ARM/V7', p('linux', 'arm', 'v7'), 'linux/arm/v7'],
    ['macos/arm64', p('darwin', 'arm64'), 'darwin/arm64'],
    ['linux/riscv64', p('linux', 'riscv64'), 'linux/riscv64'],
    ['linux/s390x', p('linux', 's390x'), 'linux/s390x'],
    ['linux/ppc64le', p('linux', 'ppc64le'), 'linux/ppc64le'],
    ['windows/amd64', p('windows', 'amd64'), 'windows/amd64'],
    // Two parts are taken as given, known or not.
    ['plan10/z80', p('plan10', 'z80'), 'plan10/z80'],
    // One word: a known OS gets the default architecture, a known architecture the default OS.
    ['linux', p('linux', 'amd64'), 'linux/amd64'],
    ['windows', p('windows', 'amd64'), 'windows/amd64'],
    ['arm64', p('linux', 'arm64'), 'linux/arm64'],
    ['aarch64', p('linux', 'arm64'), 'linux/arm64'],
    ['x86_64', p('linux', 'amd64'), 'linux/amd64'],
    ['i386', p('linux', '386'), 'linux/386'],
    ['arm', p('linux', 'arm'), 'linux/arm'],
    ['armhf', p('linux', 'arm'), 'linux/arm'],
    ['armel', p('linux', 'arm', 'v6'), 'linux/arm/v6'],
    // An OS version (Windows builds) is accepted and dropped.
    ['windows(10.0.17763)/amd64', p('windows', 'amd64'), 'windows/amd64'],
    ['windows(10.0.17763+win32k)/amd64', p('windows', 'amd64'), 'windows/amd64'],
  ])('%p', (input: string, parsed: PlatformSpec, formatted: string) => {
    expect(parsePlatform(input)).toEqual(parsed)
    expect(formatPlatform(parsePlatform(input))).toBe(formatted)
  })

  const osRe = JSON.stringify('^([A-Za-z0-9_-]+)(?:\\(([A-Za-z0-9_.%-]*)((?:\\+[A-Za-z0-9_.%-]+)*)\\))?$')
  const componentRe = JSON.stringify('^[A-Za-z0-9_.-]+$')
  test.each([
    ['foo', '"foo": unknown operating system or architecture: invalid argument'],
    ['v7', '"v7": unknown operating system or architecture: invalid argument'],
    ['linux/arm64/v8/extra', '"linux/arm64/v8/extra": cannot parse platform specifier: invalid argument'],
    ['linux/*', '"linux/*": wildcards not yet supported: invalid argument'],
    ['*', '"*": wildcards not yet supported: invalid argument'],
    ['', `"" is an invalid OS component of "": OSAndVersion specifier component must match ${osRe}: invalid argument`],
    ['/amd64', `"" is an invalid OS component of "/amd64": OSAndVersion specifier component must match ${osRe}: invalid argument`],
    ['linux.x/amd64', `"linux.x" is an invalid OS component of "linux.x/amd64": OSAndVersion specifier component must match ${osRe}: invalid argument`],
    ['linux/', `"" is an invalid component of "linux/": platform specifier component must match ${componentRe}: invalid argument`],
    ['linux/amd 64', `"amd 64" is an invalid component of "linux/amd 64": platform specifier component must match ${componentRe}: invalid argument`],
    // SplitN(…, 4) leaves the rest in the fourth piece, which the component check then refuses.
    ['a/b/c/d/e', `"d/e" is an invalid component of "a/b/c/d/e": platform specifier component must match ${componentRe}: invalid argument`],
  ])('%p fails', (input: string, message: string) => {
    expect(() => parsePlatform(input)).toThrow(new PlatformError(message))
  })
})

describe('normalizePlatform and formatPlatform', () => {
  test.each([
    ['linux/x86_64', 'linux/amd64'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/amd64/V2', 'linux/amd64/v2'],
    ['linux/aarch64/v8', 'linux/arm64'],
    ['linux/arm64/8', 'linux/arm64'],
    ['linux/arm64/v8.0', 'linux/arm64'],
    ['linux/arm64/v8.1', 'linux/arm64/v8.1'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/5', 'linux/arm/v5'],
    ['linux/i386/whatever', 'linux/386'],
    ['MacOS/arm64', 'darwin/arm64'],
    ['/amd64', 'linux/amd64'],
    ['unknown/unknown', 'unknown/unknown'],
  ])('%p → %p', (input: string, expected: string) => {
    expect(normalizePlatform(raw(input))).toEqual(raw(expected))
  })

  test('formats os/arch[/variant], and unknown without an OS', () => {
    expect(formatPlatform(p('linux', 'arm64', 'v8'))).toBe('linux/arm64/v8')
    expect(formatPlatform(p('linux', 'amd64'))).toBe('linux/amd64')
    expect(formatPlatform(p('', 'amd64'))).toBe('unknown')
  })

  test('the default is linux/amd64 and cannot be changed', () => {
    expect(DEFAULT_PLATFORM).toEqual(p('linux', 'amd64'))
    expect(Object.isFrozen(DEFAULT_PLATFORM)).toBe(true)
  })
})

test('re-exports the JSON decoding and the matching, for existing imports of platform.ts', () => {
  expect(parseJsonPlatform).toBe(parseJsonDirect)
  expect(matchManifests).toBe(matchDirect)
  expect(platformMatches).toBe(matchesDirect)
})
