import { describe, expect, test } from 'bun:test'
import {
  canonicalName,
  canonicalString,
  familiarName,
  familiarString,
  InvalidReferenceError,
  isImageId,
  isValidTag,
  parseAnyReference,
  parseNormalizedNamed,
  pullReference,
  ReservedNameError,
  withDefaultTag,
  type Reference,
} from './reference.ts'

const HEX = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c'
const D = `sha256:${HEX}`
const F64 = 'f'.repeat(64)
const SHA512 = `sha512:${'f'.repeat(128)}`
const LOWERCASE_ERR = (path: string) => `invalid reference format: repository name (${path}) must be lowercase`

// [input, canonical string, familiar string, domain, path]
const good: [string, string, string, string, string][] = [
  ['busybox', 'docker.io/library/busybox', 'busybox', 'docker.io', 'library/busybox'],
  ['busybox:latest', 'docker.io/library/busybox:latest', 'busybox:latest', 'docker.io', 'library/busybox'],
  ['library/debian', 'docker.io/library/debian', 'debian', 'docker.io', 'library/debian'],
  ['docker.io/debian', 'docker.io/library/debian', 'debian', 'docker.io', 'library/debian'],
  ['docker.io/library/debian', 'docker.io/library/debian', 'debian', 'docker.io', 'library/debian'],
  ['index.docker.io/debian', 'docker.io/library/debian', 'debian', 'docker.io', 'library/debian'],
  ['index.docker.io/library/debian', 'docker.io/library/debian', 'debian', 'docker.io', 'library/debian'],
  ['index.docker.io/docker/docker', 'docker.io/docker/docker', 'docker/docker', 'docker.io', 'docker/docker'],
  ['docker/docker', 'docker.io/docker/docker', 'docker/docker', 'docker.io', 'docker/docker'],
  ['user/app:1', 'docker.io/user/app:1', 'user/app:1', 'docker.io', 'user/app'],
  ['other/library', 'docker.io/other/library', 'other/library', 'docker.io', 'other/library'],
  ['docker.io/library/a/b', 'docker.io/library/a/b', 'library/a/b', 'docker.io', 'library/a/b'],
  ['library/foo/bar', 'docker.io/library/foo/bar', 'library/foo/bar', 'docker.io', 'library/foo/bar'],
  ['store/foo/bar', 'docker.io/store/foo/bar', 'store/foo/bar', 'docker.io', 'store/foo/bar'],
  ['test_com/foo', 'docker.io/test_com/foo', 'test_com/foo', 'docker.io', 'test_com/foo'],
  ['ubuntu-12.04-base', 'docker.io/library/ubuntu-12.04-base', 'ubuntu-12.04-base', 'docker.io', 'library/ubuntu-12.04-base'],
  ['docker-rules/docker', 'docker.io/docker-rules/docker', 'docker-rules/docker', 'docker.io', 'docker-rules/docker'],
  ['docker---rules/docker', 'docker.io/docker---rules/docker', 'docker---rules/docker', 'docker.io', 'docker---rules/docker'],
  ['dock__er/docker', 'docker.io/dock__er/docker', 'dock__er/docker', 'docker.io', 'dock__er/docker'],
  ['d/docker', 'docker.io/d/docker', 'd/docker', 'docker.io', 'd/docker'],
  ['jess/t', 'docker.io/jess/t', 'jess/t', 'docker.io', 'jess/t'],
  ['192.168.0.1', 'docker.io/library/192.168.0.1', '192.168.0.1', 'docker.io', 'library/192.168.0.1'],
  // No '/', so the port is read as a tag, exactly as Docker does.
  ['192.168.0.1:80', 'docker.io/library/192.168.0.1:80', '192.168.0.1:80', 'docker.io', 'library/192.168.0.1'],
  ['localhost:5000', 'docker.io/library/localhost:5000', 'localhost:5000', 'docker.io', 'library/localhost'],
  ['localhost', 'docker.io/library/localhost', 'localhost', 'docker.io', 'library/localhost'],
  ['localhost/x', 'localhost/x', 'localhost/x', 'localhost', 'x'],
  ['localhost:5000/x', 'localhost:5000/x', 'localhost:5000/x', 'localhost:5000', 'x'],
  ['localhost:5000/foo:Bar', 'localhost:5000/foo:Bar', 'localhost:5000/foo:Bar', 'localhost:5000', 'foo'],
  ['127.0.0.1:5000/docker/docker', '127.0.0.1:5000/docker/docker', '127.0.0.1:5000/docker/docker', '127.0.0.1:5000', 'docker/docker'],
  ['127.0.0.1:5000/library/debian', '127.0.0.1:5000/library/debian', '127.0.0.1:5000/library/debian', '127.0.0.1:5000', 'library/debian'],
  ['127.0.0.1:8000/privatebase', '127.0.0.1:8000/privatebase', '127.0.0.1:8000/privatebase', '127.0.0.1:8000', 'privatebase'],
  ['192.168.0.1:8/debian', '192.168.0.1:8/debian', '192.168.0.1:8/debian', '192.168.0.1:8', 'debian'],
  ['example.com/privatebase', 'example.com/privatebase', 'example.com/privatebase', 'example.com', 'privatebase'],
  ['example.com:8000/private/moonbase', 'example.com:8000/private/moonbase', 'example.com:8000/private/moonbase', 'example.com:8000', 'private/moonbase'],
  ['test-com:8080/foo', 'test-com:8080/foo', 'test-com:8080/foo', 'test-com:8080', 'foo'],
  ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080/foo', 'xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
  ['sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com', 'bar/baz/quux'],
  ['b.gcr.io/test.example.com/my-app:test.example.com', 'b.gcr.io/test.example.com/my-app:test.example.com', 'b.gcr.io/test.example.com/my-app:test.example.com', 'b.gcr.io', 'test.example.com/my-app'],
  ['[fc00::1]:5000/docker', '[fc00::1]:5000/docker', '[fc00::1]:5000/docker', '[fc00::1]:5000', 'docker'],
  ['[fc00:1:2:3:4:5:6:7]:5000/library/debian', '[fc00:1:2:3:4:5:6:7]:5000/library/debian', '[fc00:1:2:3:4:5:6:7]:5000/library/debian', '[fc00:1:2:3:4:5:6:7]:5000', 'library/debian'],
  ['[2001:db8::1]/repo', '[2001:db8::1]/repo', '[2001:db8::1]/repo', '[2001:db8::1]', 'repo'],
  // An uppercase first component can't be a namespace, so it is taken as a registry host.
  ['Docker/docker', 'Docker/docker', 'Docker/docker', 'Docker', 'docker'],
  ['FOO/bar', 'FOO/bar', 'FOO/bar', 'FOO', 'bar'],
  // With a host in front, a 64-hex path is a name, not an image ID.
  [`docker.io/${HEX}`, `docker.io/library/${HEX}`, HEX, 'docker.io', `library/${HEX}`],
  // 63 and 65 hex characters are ordinary names.
  [HEX.slice(1), `docker.io/library/${HEX.slice(1)}`, HEX.slice(1), 'docker.io', `library/${HEX.slice(1)}`],
  ['thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', 'docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', 'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', 'docker.io', 'library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev'],
  ['lowercase:Uppercase', 'docker.io/library/lowercase:Uppercase', 'lowercase:Uppercase', 'docker.io', 'library/lowercase'],
  [`busybox@${D}`, `docker.io/library/busybox@${D}`, `busybox@${D}`, 'docker.io', 'library/busybox'],
  [`busybox:latest@${D}`, `docker.io/library/busybox:latest@${D}`, `busybox:latest@${D}`, 'docker.io', 'library/busybox'],
  [`test:5000/repo:tag@sha256:${F64}`, `test:5000/repo:tag@sha256:${F64}`, `test:5000/repo:tag@sha256:${F64}`, 'test:5000', 'repo'],
  [`xn--7o8h.com/myimage:xn--7o8h.com@${SHA512}`, `xn--7o8h.com/myimage:xn--7o8h.com@${SHA512}`, `xn--7o8h.com/myimage:xn--7o8h.com@${SHA512}`, 'xn--7o8h.com', 'myimage'],
  [`foo@sha384:${'a'.repeat(96)}`, `docker.io/library/foo@sha384:${'a'.repeat(96)}`, `foo@sha384:${'a'.repeat(96)}`, 'docker.io', 'library/foo'],
  ['foo:' + 'A'.repeat(128), 'docker.io/library/foo:' + 'A'.repeat(128), 'foo:' + 'A'.repeat(128), 'docker.io', 'library/foo'],
  ['foo:_x.-', 'docker.io/library/foo:_x.-', 'foo:_x.-', 'docker.io', 'library/foo'],
  ['a/' + 'b'.repeat(253), 'docker.io/a/' + 'b'.repeat(253), 'a/' + 'b'.repeat(253), 'docker.io', 'a/' + 'b'.repeat(253)],
  ['a'.repeat(247), 'docker.io/library/' + 'a'.repeat(247), 'a'.repeat(247), 'docker.io', 'library/' + 'a'.repeat(247)],
  // distribution keeps the whole name as the path when the would-be host is not a valid one.
  ['foo_bar.com/x', 'foo_bar.com/x', 'foo_bar.com/x', '', 'foo_bar.com/x'],
]

// [input, exact error message]
const bad: [string, string][] = [
  ['', 'invalid reference format'],
  [':justtag', 'invalid reference format'],
  [`@sha256:${F64}`, 'invalid reference format'],
  ['foo:', 'invalid reference format'],
  ['foo@', 'invalid reference format'],
  ['foo:bar:baz', 'invalid reference format'],
  ['https://github.com/docker/docker', 'invalid reference format'],
  ['-docker', 'invalid reference format'],
  ['-docker/docker', 'invalid reference format'],
  ['docker-/docker', 'invalid reference format'],
  ['-docker.io/docker/docker', 'invalid reference format'],
  ['docker///docker', 'invalid reference format'],
  ['docker.io/docker///docker', 'invalid reference format'],
  ['docker/', 'invalid reference format'],
  ['____/____', 'invalid reference format'],
  ['_docker/_docker', 'invalid reference format'],
  ['dock..er/docker', 'invalid reference format'],
  ['dock_.er/docker', 'invalid reference format'],
  ['dock-.er/docker', 'invalid reference format'],
  ['dock___er/docker', 'invalid reference format'],
  ['aa/asdf$$^/aa', 'invalid reference format'],
  ['[fc00::1]', 'invalid reference format'],
  ['[fc00::1]:5000', 'invalid reference format'],
  ['fc00::1:5000/debian', 'invalid reference format'],
  ['[fe80::1%eth0]:5000/debian', 'invalid reference format'],
  ['[2001:db8:3:4::192.0.2.33]:5000/debian', 'invalid reference format'],
  ['foo:-tag', 'invalid reference format'],
  ['foo:.tag', 'invalid reference format'],
  ['foo:' + 'a'.repeat(129), 'invalid reference format'],
  ['foo@sha256:abc', 'invalid reference format'],
  ['foo bar', 'invalid reference format'],
  ['foo\n', 'invalid reference format'],
  [HEX, `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`],
  ['Alpine', LOWERCASE_ERR('library/Alpine')],
  ['FOO', LOWERCASE_ERR('library/FOO')],
  ['Uppercase:tag', LOWERCASE_ERR('library/Uppercase')],
  ['docker/Docker', LOWERCASE_ERR('docker/Docker')],
  ['docker.io/docker/Docker', LOWERCASE_ERR('docker/Docker')],
  ['docker.io/Foo', LOWERCASE_ERR('library/Foo')],
  ['test:5000/Uppercase/lowercase:tag', LOWERCASE_ERR('Uppercase/lowercase')],
  ['localhost:5000/Foo', LOWERCASE_ERR('Foo')],
  // Docker cuts at the first ':' whatever follows, digest included.
  [`foo/Bar@${D}`, LOWERCASE_ERR('foo/Bar@sha256')],
  ['a'.repeat(248), 'repository name must not be more than 255 characters'],
  ['a/'.repeat(128) + 'a:tag', 'repository name must not be more than 255 characters'],
  [`foo@sha256:${'f'.repeat(34)}`, 'invalid checksum digest length'],
  [`foo@sha256:${'f'.repeat(65)}`, 'invalid checksum digest length'],
  [`foo@sha512:${F64}`, 'invalid checksum digest length'],
  [`foo@sha256:${F64.toUpperCase()}`, 'invalid checksum digest format'],
  [`foo:tag@SHA256:${F64}`, 'invalid checksum digest format'],
  // With no tag, the cut at the first ':' puts the uppercase algorithm in the lowercase check.
  [`foo@SHA256:${F64}`, LOWERCASE_ERR('library/foo@SHA256')],
  [`foo@md5:${'f'.repeat(32)}`, 'unsupported digest algorithm'],
  [`validname@invaliddigest:${F64}`, 'unsupported digest algorithm'],
  [`foo@sha256+b64:${F64}`, 'unsupported digest algorithm'],
]

describe('parseNormalizedNamed', () => {
  test.each(good)('%p', (input: string, canonical: string, familiar: string, domain: string, path: string) => {
    const ref = parseNormalizedNamed(input)
    expect(canonicalString(ref)).toBe(canonical)
    expect(familiarString(ref)).toBe(familiar)
    expect(ref.domain).toBe(domain)
    expect(ref.path).toBe(path)
    // The canonical form is a fixed point, and so is the familiar one (except that a bare
    // 64-hex familiar name reads as an image ID, which Docker refuses as a name).
    expect(parseNormalizedNamed(canonical)).toEqual(ref)
    if (!/^[a-f0-9]{64}$/.test(familiar)) expect(parseNormalizedNamed(familiar)).toEqual(ref)
  })

  test.each(bad)('%p fails', (input: string, message: string) => {
    expect(() => parseNormalizedNamed(input)).toThrow(new InvalidReferenceError(message))
  })

  test('errors are InvalidReferenceError', () => {
    expect(() => parseNormalizedNamed('Alpine')).toThrow(InvalidReferenceError)
  })

  test('splits tag and digest into their fields and adds no default tag', () => {
    expect(parseNormalizedNamed('busybox')).toEqual({ domain: 'docker.io', path: 'library/busybox' })
    expect(parseNormalizedNamed('localhost:5000/a/b:v1')).toEqual({ domain: 'localhost:5000', path: 'a/b', tag: 'v1' })
    expect(parseNormalizedNamed(`x:y@${D}`)).toEqual({ domain: 'docker.io', path: 'library/x', tag: 'y', digest: D })
    expect(parseNormalizedNamed(`x@${D}`)).toEqual({ domain: 'docker.io', path: 'library/x', digest: D })
  })

  test('a path of exactly 255 characters is accepted, library/ counted', () => {
    expect(parseNormalizedNamed('a'.repeat(247)).path).toHaveLength(255)
    expect(parseNormalizedNamed('a/' + 'b'.repeat(253)).path).toHaveLength(255)
  })

  test('pathological input fails fast', () => {
    const started = performance.now()
    for (const s of ['a'.repeat(200_000) + '!', 'a-'.repeat(100_000) + '!', 'a.'.repeat(100_000) + '/!']) {
      expect(() => parseNormalizedNamed(s)).toThrow()
    }
    expect(performance.now() - started).toBeLessThan(2_000)
  })
})

describe('familiar and canonical forms', () => {
  const ref = (s: string): Reference => parseNormalizedNamed(s)
  test.each([
    ['busybox', 'busybox', 'docker.io/library/busybox'],
    ['user/app:1', 'user/app', 'docker.io/user/app'],
    ['docker.io/library/a/b', 'library/a/b', 'docker.io/library/a/b'],
    ['localhost:5000/x', 'localhost:5000/x', 'localhost:5000/x'],
    ['example.com/library/x', 'example.com/library/x', 'example.com/library/x'],
  ])('%p', (input: string, familiar: string, canonical: string) => {
    expect(familiarName(ref(input))).toBe(familiar)
    expect(canonicalName(ref(input))).toBe(canonical)
  })

  test('strings carry tag then digest', () => {
    expect(familiarString(ref(`alpine:3@${D}`))).toBe(`alpine:3@${D}`)
    expect(canonicalString(ref(`alpine:3@${D}`))).toBe(`docker.io/library/alpine:3@${D}`)
    expect(familiarString(ref('alpine'))).toBe('alpine')
  })
})

describe('withDefaultTag', () => {
  test('adds latest only when there is neither tag nor digest', () => {
    expect(withDefaultTag(parseNormalizedNamed('alpine'))).toEqual({ domain: 'docker.io', path: 'library/alpine', tag: 'latest' })
    expect(withDefaultTag(parseNormalizedNamed('alpine:3')).tag).toBe('3')
    const digested = withDefaultTag(parseNormalizedNamed(`alpine@${D}`))
    expect(digested.tag).toBeUndefined()
    expect(digested.digest).toBe(D)
  })
})

describe('parseAnyReference', () => {
  test.each([
    [HEX, D],
    [D, D],
    [SHA512, SHA512],
  ])('%p is an image ID', (input: string, id: string) => {
    const r = parseAnyReference(input)
    expect(r).toEqual({ id: id as typeof D })
    expect(isImageId(r)).toBe(true)
  })

  test.each([
    ['redis', 'docker.io/library/redis'],
    ['redis:latest', 'docker.io/library/redis:latest'],
    [`redis@${D}`, `docker.io/library/redis@${D}`],
    ['dmcgowan/myapp', 'docker.io/dmcgowan/myapp'],
    [HEX.slice(1), `docker.io/library/${HEX.slice(1)}`],
    ['dbcc1', 'docker.io/library/dbcc1'],
    // A short digest is not an ID: it reads as repository "sha256", tag "3f5"; callers then try ID prefixes.
    ['sha256:3f5', 'docker.io/library/sha256:3f5'],
    [`${D.slice(0, -1)}`, `docker.io/library/${D.slice(0, -1)}`],
  ])('%p is a name', (input: string, canonical: string) => {
    const r = parseAnyReference(input)
    expect(isImageId(r)).toBe(false)
    expect(canonicalString(r as Reference)).toBe(canonical)
  })

  test('uppercase hex is neither an ID nor a valid name', () => {
    expect(() => parseAnyReference(HEX.toUpperCase())).toThrow(LOWERCASE_ERR(`library/${HEX.toUpperCase()}`))
  })
})

describe('isValidTag', () => {
  test.each(['latest', 'v1.2.3', '_', 'A-b_c.d', 'x'.repeat(128), '0'])('%p is valid', (t: string) => {
    expect(isValidTag(t)).toBe(true)
  })
  test.each(['', '-x', '.x', 'a:b', 'a/b', 'a@b', 'x'.repeat(129), 'é', 'a b'])('%p is invalid', (t: string) => {
    expect(isValidTag(t)).toBe(false)
  })
})

describe('pullReference', () => {
  // [fromImage, tag, canonical string]
  test.each([
    ['docker.io/library/alpine', 'latest', 'docker.io/library/alpine:latest'],
    ['docker.io/library/alpine', undefined, 'docker.io/library/alpine:latest'],
    ['docker.io/library/alpine', '', 'docker.io/library/alpine:latest'],
    ['alpine', '3.19', 'docker.io/library/alpine:3.19'],
    ['alpine:', undefined, 'docker.io/library/alpine:latest'],
    ['alpine:3.19', undefined, 'docker.io/library/alpine:3.19'],
    ['alpine:3.19', 'edge', 'docker.io/library/alpine:edge'],
    ['docker.io/library/alpine', D, `docker.io/library/alpine@${D}`],
    ['alpine:3.19', D, `docker.io/library/alpine@${D}`],
    [`alpine@sha256:${F64}`, D, `docker.io/library/alpine@${D}`],
    [`alpine@${D}`, undefined, `docker.io/library/alpine@${D}`],
    // A tag added to a digested name keeps the digest, as WithTag does.
    [`alpine@${D}`, 'v1', `docker.io/library/alpine:v1@${D}`],
    ['localhost:5000/foo/bar', 'v2', 'localhost:5000/foo/bar:v2'],
    ['localhost:5000/foo/bar:', undefined, 'localhost:5000/foo/bar:latest'],
    ['alpine', SHA512, `docker.io/library/alpine@${SHA512}`],
    ['localhost/scratch', undefined, 'localhost/scratch:latest'],
    ['myscratch', undefined, 'docker.io/library/myscratch:latest'],
    ['library/scratch/x', undefined, 'docker.io/library/scratch/x:latest'],
  ])('%p + tag %p', (fromImage: string, tag: string | undefined, canonical: string) => {
    expect(canonicalString(pullReference(fromImage, tag))).toBe(canonical)
  })

  test.each([
    ['alpine', 'bad tag', 'invalid tag format'],
    ['alpine', 'sha256:abc', 'invalid tag format'],
    ['alpine', `sha256:${F64.toUpperCase()}`, 'invalid tag format'],
    ['alpine', '-x', 'invalid tag format'],
    ['alpine', 'x'.repeat(129), 'invalid tag format'],
    ['alpine::', undefined, 'invalid reference format'],
    ['', 'latest', 'invalid reference format'],
    ['Alpine', 'latest', LOWERCASE_ERR('library/Alpine')],
    [HEX, undefined, `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`],
    // The tag is checked before the reserved name, as in moby.
    ['scratch', 'bad tag', 'invalid tag format'],
  ])('%p + tag %p fails', (fromImage: string, tag: string | undefined, message: string) => {
    expect(() => pullReference(fromImage, tag)).toThrow(new InvalidReferenceError(message))
  })

  test.each([
    ['scratch', undefined],
    ['scratch', 'latest'],
    ['scratch:1', undefined],
    ['library/scratch', undefined],
    ['docker.io/library/scratch', 'latest'],
    ['index.docker.io/scratch', D],
  ])('%p + tag %p is reserved', (fromImage: string, tag: string | undefined) => {
    expect(() => pullReference(fromImage, tag)).toThrow(ReservedNameError)
    expect(() => pullReference(fromImage, tag)).toThrow("'scratch' is a reserved name")
    expect(() => pullReference(fromImage, tag)).not.toThrow(InvalidReferenceError)
  })
})
