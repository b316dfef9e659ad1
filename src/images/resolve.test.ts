import { beforeAll, describe, expect, test } from 'bun:test'
import { hex } from '../oci/digest.ts'
import type { ImageRecord } from '../storage/images.ts'
import { addImage, memoryStores, type Stores } from '../../test/support/image-store.ts'
import { isImageIdPrefix, resolveImage } from './resolve.ts'

let s: Stores
let busybox: ImageRecord
let arm: ImageRecord

beforeAll(async () => {
  s = memoryStores()
  busybox = await addImage(s, {
    layers: ['busybox'],
    tags: ['docker.io/library/busybox:latest', 'localhost:5000/x/y:z'],
    digestRepos: ['docker.io/library/busybox'],
  })
  arm = await addImage(s, {
    layers: ['arm'],
    platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    tags: ['docker.io/library/armbox:latest'],
  })
})

const failure = async (name: string, platform?: Parameters<typeof resolveImage>[2]) => {
  try {
    await resolveImage(s.images, name, platform)
  } catch (e) {
    return { status: (e as { status: number }).status, message: (e as Error).message }
  }
  throw new Error(`${name} resolved`)
}

describe('resolveImage (moby GetImage)', () => {
  test('IDs, references with the default tag, digests, multi-segment names', async () => {
    const id = (name: string) => resolveImage(s.images, name).then((r) => r.image.id)
    expect(await id(busybox.id)).toBe(busybox.id)
    expect(await id(hex(busybox.id))).toBe(busybox.id)
    expect(await id('busybox')).toBe(busybox.id)
    expect(await id('docker.io/library/busybox:latest')).toBe(busybox.id)
    expect(await id('localhost:5000/x/y:z')).toBe(busybox.id)
    expect(await id(`busybox@${busybox.manifest.digest}`)).toBe(busybox.id)
    // tag and digest: the digest decides
    expect(await id(`busybox:nope@${busybox.manifest.digest}`)).toBe(busybox.id)
    expect((await resolveImage(s.images, 'busybox')).ref?.tag).toBe('latest')
  })

  test('unambiguous ID prefixes, with or without sha256:', async () => {
    for (const prefix of [hex(busybox.id).slice(0, 12), `sha256:${hex(busybox.id).slice(0, 5)}`]) {
      expect((await resolveImage(s.images, prefix)).image.id).toBe(busybox.id)
    }
  })

  test('404 No such image with the familiar name and default tag', async () => {
    expect(await failure('nope')).toEqual({ status: 404, message: 'No such image: nope:latest' })
    expect(await failure('docker.io/library/nope:v1')).toEqual({ status: 404, message: 'No such image: nope:v1' })
    expect(await failure('abc123')).toEqual({ status: 404, message: 'No such image: abc123:latest' })
    const full = `sha256:${'0'.repeat(64)}`
    expect(await failure(full)).toEqual({ status: 404, message: `No such image: ${full}` })
    const sha512 = `sha512:${'0'.repeat(128)}`
    expect(await failure(sha512)).toEqual({ status: 404, message: `No such image: ${sha512}` })
  })

  test('an ambiguous prefix matches nothing', async () => {
    // 17 images: two of them must share their first hex digit.
    const many = memoryStores()
    const byFirst = new Map<string, number>()
    for (let i = 0; i < 17; i++) {
      const rec = await addImage(many, { layers: [`layer ${i}`] })
      const c = hex(rec.id)[0]!
      byFirst.set(c, (byFirst.get(c) ?? 0) + 1)
    }
    const shared = [...byFirst].find(([, n]) => n > 1)![0]
    await expect(resolveImage(many.images, shared)).rejects.toThrow(`No such image: ${shared}:latest`)
    await expect(resolveImage(many.images, `sha256:${shared}`)).rejects.toThrow(
      `No such image: sha256:${shared}`
    )
  })

  test('400 for what is no reference at all', async () => {
    expect(await failure('UPPER')).toEqual({
      status: 400,
      message: 'invalid reference format: repository name (library/UPPER) must be lowercase',
    })
    expect(await failure('a b')).toEqual({ status: 400, message: 'invalid reference format' })
    expect(await failure('')).toEqual({ status: 400, message: 'image name cannot be blank' })
  })

  test('a platform the image is not for is a 404 saying so', async () => {
    const amd64 = { os: 'linux', architecture: 'amd64' }
    expect((await resolveImage(s.images, 'busybox', { platform: amd64 })).image.id).toBe(busybox.id)
    expect(await failure('armbox', { platform: amd64 })).toEqual({
      status: 404,
      message:
        'image with reference armbox was found but its platform (linux/arm64/v8) does not match the specified platform (linux/amd64)',
    })
    const arm64 = { os: 'linux', architecture: 'arm64' }
    expect((await resolveImage(s.images, 'armbox', { platform: arm64 })).image.id).toBe(arm.id)
  })

  test('isImageIdPrefix', () => {
    expect(isImageIdPrefix(busybox.id, hex(busybox.id).slice(0, 3))).toBe(true)
    expect(isImageIdPrefix(busybox.id, 'sha256:')).toBe(true)
    expect(isImageIdPrefix(busybox.id, 'busybox')).toBe(false)
  })
})
