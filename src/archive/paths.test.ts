import { describe, expect, test } from 'bun:test'
import { archivePath, entryLocation, hardlinkTarget, resolveLinks, symlinkTarget } from './paths.ts'
import { TarError } from './tar-header.ts'

describe('archivePath', () => {
  test('cleans names lexically', () => {
    expect(archivePath('./manifest.json')).toBe('manifest.json')
    expect(archivePath('blobs//sha256/./abc')).toBe('blobs/sha256/abc')
    expect(archivePath('blobs/sha256/')).toBe('blobs/sha256')
    expect(archivePath('a/../b')).toBe('b')
    expect(archivePath('./')).toBe('')
  })

  test('refuses names that leave the archive', () => {
    for (const bad of ['../x', 'a/../../x', '..', './../x']) {
      expect(() => archivePath(bad)).toThrow(`invalid archive: ${JSON.stringify(bad)} is outside of the archive`)
    }
    expect(() => archivePath('/etc/passwd')).toThrow('invalid archive: "/etc/passwd" is an absolute path')
    expect(() => archivePath('/etc/passwd')).toThrow(TarError)
  })
})

describe('link targets', () => {
  test('symlinks resolve relative to their directory and must stay inside', () => {
    expect(symlinkTarget('b/layer.tar', '../a/layer.tar')).toBe('a/layer.tar')
    expect(symlinkTarget('link', 'manifest.json')).toBe('manifest.json')
    expect(() => symlinkTarget('b/layer.tar', '../../etc/passwd')).toThrow(
      'invalid archive: invalid symlink "b/layer.tar" -> "../../etc/passwd"'
    )
    expect(() => symlinkTarget('x', '/etc/passwd')).toThrow('invalid symlink "x" -> "/etc/passwd"')
  })

  test('hardlinks are root-relative and must stay inside', () => {
    expect(hardlinkTarget('b', 'a/layer.tar')).toBe('a/layer.tar')
    expect(() => hardlinkTarget('b', '../x')).toThrow('invalid archive: invalid hardlink "b" -> "../x"')
    expect(() => hardlinkTarget('b', '/x')).toThrow(TarError)
  })

  test('resolveLinks follows links in any component, and refuses loops', () => {
    const links = new Map([
      ['b/layer.tar', 'a/layer.tar'],
      ['dir', 'real'],
      ['loop1', 'loop2'],
      ['loop2', 'loop1'],
    ])
    expect(resolveLinks('b/layer.tar', links)).toBe('a/layer.tar')
    expect(resolveLinks('dir/x/y', links)).toBe('real/x/y')
    expect(resolveLinks('plain', links)).toBe('plain')
    expect(() => resolveLinks('loop1', links)).toThrow('too many levels of symbolic links')
  })
})

describe('hostile names', () => {
  test('layers read absolute names and targets from their root; climbing out is still refused', () => {
    expect(archivePath('/etc/passwd', 'rooted')).toBe('etc/passwd')
    expect(symlinkTarget('bin/sh', '/bin/busybox', 'rooted')).toBe('bin/busybox')
    expect(hardlinkTarget('a', '/b', 'rooted')).toBe('b')
    expect(() => archivePath('/../x', 'rooted')).toThrow('is outside of the archive')
    expect(() => symlinkTarget('a/b', '../../x', 'rooted')).toThrow('invalid symlink')
  })

  test('names past PATH_MAX or NAME_MAX are too long', () => {
    expect(() => archivePath('a/'.repeat(2100))).toThrow('file name too long')
    expect(() => archivePath(`${'x'.repeat(256)}/y`)).toThrow('file name too long')
    expect(() => symlinkTarget('l', 'y'.repeat(300))).toThrow('file name too long')
    expect(archivePath(`${'x'.repeat(255)}/y`)).toBe(`${'x'.repeat(255)}/y`)
  })

  test('a link under a symlinked directory is judged where it really is', () => {
    const links = new Map([['s', '']])
    expect(entryLocation('s/evil', links)).toBe('evil')
    expect(entryLocation('plain/file', links)).toBe('plain/file')
    // Lexically s/../x stays inside; really, s is the root and ../x climbs out.
    expect(symlinkTarget('s/evil', '../x')).toBe('x')
    expect(() => symlinkTarget('s/evil', '../x', 'refuse', resolveLinks('s', links))).toThrow(
      'invalid symlink "s/evil" -> "../x"'
    )
  })
})
