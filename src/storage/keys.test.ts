import { describe, expect, test } from 'bun:test'
import { sha256 } from '../oci/digest.ts'
import {
  blobKey,
  checkKey,
  checkPrefix,
  digestOfBlobKey,
  digestOfLinkKey,
  encodeSegment,
  engineTagKey,
  idOfImageKey,
  imageKey,
  InvalidKeyError,
  mirrorLayerKey,
  mirrorRevisionKey,
  mirrorTagKey,
  mirrorTagsPrefix,
  refOfEngineTagKey,
  tagOfMirrorTagKey,
} from './keys.ts'

const d = sha256('hello')
const h = d.slice(7)
const busybox = { domain: 'docker.io', path: 'library/busybox' }

describe('key layout', () => {
  test('draws the documented tree', () => {
    expect(blobKey(d)).toBe(`blobs/sha256/${h.slice(0, 2)}/${h}`)
    expect(imageKey(d)).toBe(`images/${h}`)
    expect(engineTagKey('docker.io/library/busybox:latest')).toBe(
      'engine/tags/docker.io/library/busybox%3alatest'
    )
    expect(mirrorTagKey(busybox, 'latest')).toBe(
      'repositories/docker.io/library/busybox/_manifests/tags/latest'
    )
    expect(mirrorRevisionKey(busybox, d)).toBe(
      `repositories/docker.io/library/busybox/_manifests/revisions/${h}`
    )
    expect(mirrorLayerKey(busybox, d)).toBe(`repositories/docker.io/library/busybox/_layers/${h}`)
    expect(mirrorTagKey({ domain: 'localhost:5000', path: 'a/b' }, 'v1')).toBe(
      'repositories/localhost%3a5000/a/b/_manifests/tags/v1'
    )
  })

  test('decodes what it encodes', () => {
    expect(digestOfBlobKey(blobKey(d))).toBe(d)
    expect(idOfImageKey(imageKey(d))).toBe(d)
    expect(digestOfLinkKey(mirrorLayerKey(busybox, d))).toBe(d)
    expect(digestOfLinkKey(mirrorRevisionKey(busybox, d))).toBe(d)
    for (const ref of [
      'docker.io/library/busybox:latest',
      'localhost:5000/team/app:V1.0_rc-1',
      `ghcr.io/o/p@${d}`,
      'example.com/ünïcode/x:tag',
    ]) {
      expect(refOfEngineTagKey(engineTagKey(ref))).toBe(ref)
    }
    for (const tag of ['latest', '_under', '.dot', 'UPPER', 'a..b']) {
      expect(tagOfMirrorTagKey(mirrorTagKey(busybox, tag))).toBe(tag)
    }
  })

  test('rejects keys it did not make', () => {
    expect(digestOfBlobKey(`blobs/sha256/00/${h}`)).toBeNull()
    expect(digestOfBlobKey('blobs/sha256/ab/short')).toBeNull()
    expect(idOfImageKey('images/nothex')).toBeNull()
    expect(idOfImageKey(blobKey(d))).toBeNull()
    expect(refOfEngineTagKey('images/x')).toBeNull()
    expect(refOfEngineTagKey('engine/tags/bad%zz')).toBeNull()
  })

  test('encoded segments are never hidden, dot-dot, markers or case-colliding', () => {
    expect(encodeSegment('..')).toBe('%2e.')
    expect(encodeSegment('.')).toBe('%2e')
    expect(encodeSegment('_manifests')).toBe('%5fmanifests')
    expect(encodeSegment('Latest')).not.toBe(encodeSegment('latest'))
    expect(encodeSegment('Latest').toLowerCase()).toBe(encodeSegment('Latest'))
    expect(encodeSegment('a/b')).toBe('a%2fb')
    expect(encodeSegment('100%')).toBe('100%25')
    expect(() => encodeSegment('')).toThrow(InvalidKeyError)
    // A repository named like a marker cannot reach into another repository's links.
    const sneaky = mirrorTagKey({ domain: 'h', path: 'a/_manifests/tags' }, 'x')
    expect(sneaky.startsWith(mirrorTagsPrefix({ domain: 'h', path: 'a' }))).toBe(false)
  })

  test('refuses names that cannot be keyed', () => {
    expect(() => engineTagKey('a//b:c')).toThrow(InvalidKeyError)
    expect(() => mirrorTagKey({ domain: '', path: 'x' }, 'latest')).toThrow(InvalidKeyError)
    expect(() => mirrorTagKey(busybox, 'T'.repeat(100))).toThrow(/longer than 255/)
    expect(() => blobKey('sha512:abc' as never)).toThrow(InvalidKeyError)
    expect(() => imageKey('sha256:ABC' as never)).toThrow(InvalidKeyError)
  })

  test('checkKey and checkPrefix hold the grammar drivers enforce', () => {
    for (const ok of ['a', 'a/b', 'A-b_c.d/e%2f~+=@,', 'x'.repeat(255)]) {
      expect(checkKey(ok)).toBe(ok)
    }
    for (const bad of ['', 'a/', '/a', 'a//b', '.', '..', 'a/./b', '.x', 'a:b', 'x'.repeat(256)]) {
      expect(() => checkKey(bad)).toThrow(InvalidKeyError)
    }
    expect(() => checkKey(`${'a/'.repeat(512)}a`)).toThrow(/longer than 1024/)
    for (const ok of ['', 'a', 'a/', 'a/b', 'a/b/']) expect(checkPrefix(ok)).toBe(ok)
    for (const bad of ['/', '//', 'a//', '../', '.', 'a/.']) {
      expect(() => checkPrefix(bad)).toThrow(InvalidKeyError)
    }
  })
})
