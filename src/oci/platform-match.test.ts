import { describe, expect, test } from 'bun:test'
import type { Platform } from './manifest.ts'
import { matchManifests, platformMatches } from './platform-match.ts'
import { DEFAULT_PLATFORM, parsePlatform, type PlatformSpec } from './platform.ts'

const p = (os: string, architecture: string, variant?: string): PlatformSpec =>
  variant ? { os, architecture, variant } : { os, architecture }
/** `os/arch[/variant]` taken literally, without parsePlatform's normalisation. */
const raw = (s: string): PlatformSpec => {
  const [os = '', architecture = '', variant] = s.split('/')
  return p(os, architecture, variant)
}

type Entry = { name: string; platform?: Platform }
const e = (name: string, platform?: PlatformSpec): Entry => (platform ? { name, platform } : { name })
const names = (entries: Entry[], target: PlatformSpec) => matchManifests(entries, target).map((x) => x.name)

describe('matchManifests', () => {
  // The testbed's library/multiarch:latest: two images and their attestation manifests.
  const multiarch = [
    e('amd64', p('linux', 'amd64')),
    e('arm64', p('linux', 'arm64', 'v8')),
    e('att-amd64', p('unknown', 'unknown')),
    e('att-arm64', p('unknown', 'unknown')),
  ]

  test.each([
    ['linux/amd64', ['amd64']],
    ['linux/amd64/v2', ['amd64']],
    ['linux/amd64/v4', ['amd64']],
    ['linux/x86_64', ['amd64']],
    ['linux/arm64', ['arm64']],
    ['linux/arm64/v8', ['arm64']],
    ['linux/aarch64', ['arm64']],
    ['linux/arm64/v8.2', ['arm64']],
    ['linux/arm64/v9', ['arm64']],
    ['linux/arm/v7', []],
    ['linux/386', []],
    ['linux/riscv64', []],
    ['windows/amd64', []],
    ['darwin/arm64', []],
  ])('multiarch for %p', (target: string, expected: string[]) => {
    expect(names(multiarch, parsePlatform(target))).toEqual(expected)
  })

  test('returns the entries themselves, unchanged', () => {
    const [chosen] = matchManifests(multiarch, DEFAULT_PLATFORM)
    expect(chosen).toBe(multiarch[0]!)
  })

  test('amd64/vN prefers vN, then lower levels, then 386; entries without platform last', () => {
    const entries = [
      e('none'),
      e('386', p('linux', '386')),
      e('v2', p('linux', 'amd64', 'v2')),
      e('v1', p('linux', 'amd64')),
      e('v4', p('linux', 'amd64', 'v4')),
      e('v3', p('linux', 'amd64', 'v3')),
      e('arm64', p('linux', 'arm64')),
      e('att', p('unknown', 'unknown')),
    ]
    expect(names(entries, p('linux', 'amd64', 'v3'))).toEqual(['v3', 'v2', 'v1', '386', 'none'])
    expect(names(entries, p('linux', 'amd64'))).toEqual(['v1', '386', 'none'])
    expect(names(entries, p('linux', '386'))).toEqual(['386', 'none'])
  })

  test('arm64 prefers its own variant, then lower arm64 variants, then arm v8 down to v5', () => {
    const entries = [
      e('arm/v5', p('linux', 'arm', 'v5')),
      e('arm/v7', p('linux', 'arm', 'v7')),
      e('arm64/v8.1', p('linux', 'arm64', 'v8.1')),
      e('arm/v6', p('linux', 'arm', 'v6')),
      e('arm64/v8', p('linux', 'arm64', 'v8')),
      e('arm/v8', p('linux', 'arm', 'v8')),
      e('arm64', p('linux', 'arm64')),
      e('arm64/v8.2', p('linux', 'arm64', 'v8.2')),
      e('amd64', p('linux', 'amd64')),
    ]
    // arm64/v8 and bare arm64 are the same platform once normalised: index order decides.
    expect(names(entries, p('linux', 'arm64'))).toEqual([
      'arm64/v8', 'arm64', 'arm/v8', 'arm/v7', 'arm/v6', 'arm/v5',
    ])
    expect(names(entries, p('linux', 'arm64', 'v8.2'))).toEqual([
      'arm64/v8.2', 'arm64/v8.1', 'arm64/v8', 'arm64', 'arm/v8', 'arm/v7', 'arm/v6', 'arm/v5',
    ])
  })

  test('arm64/v9.x also runs v9.(x-1)…v9 and v8.(x+5)…v8', () => {
    const entries = ['v8', 'v8.5', 'v8.6', 'v8.7', 'v9', 'v9.1', 'v9.2'].map((v) => e(v, p('linux', 'arm64', v)))
    expect(names(entries, p('linux', 'arm64', 'v9.1'))).toEqual(['v9.1', 'v9', 'v8.6', 'v8.5', 'v8'])
    expect(names(entries, p('linux', 'arm64', 'v9'))).toEqual(['v9', 'v8.5', 'v8'])
  })

  test('arm/vN runs vN down to v5, and a bare arm entry is arm/v7', () => {
    const entries = [
      e('arm', p('linux', 'arm')),
      e('arm/v5', p('linux', 'arm', 'v5')),
      e('arm/v6', p('linux', 'arm', 'v6')),
      e('arm/v8', p('linux', 'arm', 'v8')),
      e('armhf', p('linux', 'armhf')),
      e('arm64', p('linux', 'arm64')),
    ]
    expect(names(entries, p('linux', 'arm', 'v7'))).toEqual(['arm', 'armhf', 'arm/v6', 'arm/v5'])
    expect(names(entries, parsePlatform('linux/arm'))).toEqual(['arm', 'armhf', 'arm/v6', 'arm/v5'])
    expect(names(entries, p('linux', 'arm', 'v6'))).toEqual(['arm/v6', 'arm/v5'])
    expect(names(entries, p('linux', 'arm', 'v5'))).toEqual(['arm/v5'])
  })

  test('entry platforms are normalised before comparing', () => {
    const entries = [
      e('x86_64', p('Linux', 'x86_64')),
      e('aarch64', p('linux', 'aarch64', '8')),
      e('i386', p('linux', 'i386')),
      e('no-os', p('', 'amd64')),
    ]
    expect(names(entries, p('linux', 'amd64'))).toEqual(['x86_64', 'no-os', 'i386'])
    expect(names(entries, p('linux', 'arm64', 'v8'))).toEqual(['aarch64'])
  })

  test('an empty platform object counts as no platform; os.version is ignored off Windows', () => {
    const entries: Entry[] = [
      { name: 'empty', platform: { os: '', architecture: '' } },
      { name: 'versioned', platform: { os: 'linux', architecture: 'amd64', 'os.version': '6.1' } },
    ]
    expect(names(entries, p('linux', 'amd64'))).toEqual(['versioned', 'empty'])
    expect(names(entries, p('linux', 'arm64'))).toEqual(['empty'])
  })

  test('entries without platform all match, in index order, after every real match', () => {
    const entries = [e('a'), e('b'), e('amd64', p('linux', 'amd64')), e('c')]
    expect(names(entries, p('linux', 'amd64'))).toEqual(['amd64', 'a', 'b', 'c'])
    expect(names(entries, p('linux', 'arm64'))).toEqual(['a', 'b', 'c'])
  })

  test('a target with empty fields falls back to linux/amd64', () => {
    expect(names(multiarch, p('', ''))).toEqual(['amd64'])
    expect(names(multiarch, p('linux', ''))).toEqual(['amd64'])
  })

  test('empty input gives an empty list', () => {
    expect(matchManifests([], DEFAULT_PLATFORM)).toEqual([])
  })
})

describe('platformMatches', () => {
  test.each([
    ['linux/amd64', 'linux/amd64', true],
    ['linux/x86_64', 'linux/amd64', true],
    ['linux/amd64', 'linux/amd64/v3', true],
    ['linux/amd64/v3', 'linux/amd64', false],
    ['linux/386', 'linux/amd64', true],
    ['linux/arm64', 'linux/amd64', false],
    ['linux/arm64', 'linux/arm64/v8', true],
    ['linux/arm64/v8', 'linux/arm64', true],
    ['linux/arm64/v8', 'linux/arm64/v8.2', true],
    ['linux/arm64/v8.2', 'linux/arm64', false],
    ['linux/arm/v6', 'linux/arm/v7', true],
    ['linux/arm/v7', 'linux/arm/v6', false],
    // Image configs often omit the variant: same os/arch is then enough (moby's fallback).
    ['linux/arm', 'linux/arm/v6', true],
    ['linux/arm', 'linux/arm/v5', true],
    ['linux/arm64', 'linux/arm/v7', false],
    ['linux/arm/v7', 'linux/arm64', true],
    ['windows/amd64', 'linux/amd64', false],
    ['unknown/unknown', 'linux/amd64', false],
  ])('image %p on target %p', (image: string, target: string, expected: boolean) => {
    expect(platformMatches(raw(image), parsePlatform(target))).toBe(expected)
  })

  test('accepts image configs and descriptor platforms as they are', () => {
    const config = { architecture: 'arm64', os: 'linux', variant: 'v8', rootfs: { type: 'layers', diff_ids: [] } }
    expect(platformMatches(config, p('linux', 'arm64'))).toBe(true)
    const platform: Platform = { architecture: 'amd64', os: 'linux', 'os.features': ['x'] }
    expect(platformMatches(platform, DEFAULT_PLATFORM)).toBe(true)
  })
})
