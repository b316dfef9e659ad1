import { beforeEach, describe, expect, test } from 'bun:test'
import { sha256, type Digest } from '../oci/digest.ts'
import { MediaType } from '../oci/media-types.ts'
import { StorageError, type StorageDriver } from './driver.ts'
import { createImageStore, type ImageRecord, type ImageStore } from './images.ts'
import { engineTagKey, imageKey } from './keys.ts'
import { createMemoryDriver } from './memory.ts'

const id1 = sha256('config 1')
const id2 = sha256('config 2')

function record(id: Digest): ImageRecord {
  return {
    id,
    manifest: { digest: sha256(`manifest ${id}`), mediaType: MediaType.ociManifest, size: 400 },
    index: { digest: sha256('index'), mediaType: MediaType.ociIndex, size: 900 },
    config: { size: 1234, mediaType: MediaType.ociConfig },
    platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    layers: [
      {
        digest: sha256('layer'),
        size: 100,
        mediaType: MediaType.ociLayerGzip,
        diffId: sha256('tar'),
      },
    ],
    created: '2024-01-02T03:04:05Z',
    repoDigests: [`docker.io/library/busybox@${sha256('index')}`],
    lastTagTime: '2024-05-06T07:08:09.123Z',
  }
}

describe('image store', () => {
  let driver: StorageDriver
  let images: ImageStore
  beforeEach(() => {
    driver = createMemoryDriver()
    images = createImageStore(driver)
  })

  const all = async <T>(it: AsyncIterable<T>) => {
    const out: T[] = []
    for await (const x of it) out.push(x)
    return out
  }

  test('stores, replaces and deletes image records', async () => {
    expect(await images.getImage(id1)).toBeNull()
    await images.putImage(record(id1))
    expect(await images.getImage(id1)).toEqual(record(id1))
    expect(await driver.stat(imageKey(id1))).not.toBeNull()
    const updated = { ...record(id1), repoDigests: [], lastTagTime: undefined }
    await images.putImage(updated)
    expect(await images.getImage(id1)).toEqual({ ...updated, lastTagTime: undefined })
    expect(await images.deleteImage(id1)).toBe(true)
    expect(await images.deleteImage(id1)).toBe(false)
    expect(await images.getImage(id1)).toBeNull()
  })

  test('lists every image record', async () => {
    await images.putImage(record(id1))
    await images.putImage(record(id2))
    const ids = (await all(images.listImages())).map((r) => r.id)
    expect(ids.sort()).toEqual([id1, id2].sort())
  })

  test('setTag reports the id the tag pointed at before', async () => {
    const ref = 'docker.io/library/busybox:latest'
    expect(await images.getTag(ref)).toBeNull()
    expect(await images.setTag(ref, id1)).toBeNull()
    expect(await images.getTag(ref)).toBe(id1)
    expect(await images.setTag(ref, id1)).toBe(id1)
    expect(await images.setTag(ref, id2)).toBe(id1)
    expect(await images.getTag(ref)).toBe(id2)
    expect(await driver.stat(engineTagKey(ref))).not.toBeNull()
    expect(await images.deleteTag(ref)).toBe(true)
    expect(await images.deleteTag(ref)).toBe(false)
    expect(await images.getTag(ref)).toBeNull()
  })

  test('lists tags with their references intact', async () => {
    const refs = {
      'docker.io/library/busybox:latest': id1,
      'docker.io/library/busybox:1.36': id1,
      'localhost:5000/team/App-x:V2_rc': id2,
      [`ghcr.io/org/tool@${id2}`]: id2,
    }
    for (const [ref, id] of Object.entries(refs)) await images.setTag(ref, id)
    const listed = await all(images.listTags())
    expect(Object.fromEntries(listed.map((t) => [t.ref, t.id]))).toEqual(refs)
  })

  test('refuses bad ids and corrupted records', async () => {
    await expect(images.setTag('docker.io/library/x:y', 'sha256:nope' as Digest)).rejects.toThrow(
      StorageError
    )
    await driver.put(imageKey(id1), new TextEncoder().encode('{not json'))
    await expect(images.getImage(id1)).rejects.toBeInstanceOf(StorageError)
    await driver.put(imageKey(id1), new TextEncoder().encode(JSON.stringify(record(id2))))
    await expect(images.getImage(id1)).rejects.toThrow(/holds/)
    await driver.put(engineTagKey('docker.io/a/b:c'), new TextEncoder().encode('{"id":5}'))
    await expect(images.getTag('docker.io/a/b:c')).rejects.toThrow(/no image id/)
  })
})
