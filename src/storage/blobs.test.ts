import { beforeEach, describe, expect, test } from 'bun:test'
import { bytesOf, drain, streamOf } from '../../test/storage-conformance.ts'
import { DigestMismatchError, sha256, type Digest } from '../oci/digest.ts'
import { StorageError, type StorageDriver } from './driver.ts'
import { blobKey, InvalidKeyError } from './keys.ts'
import { createBlobStore, type BlobStore } from './blobs.ts'
import { createMemoryDriver } from './memory.ts'

describe('blob store', () => {
  let driver: StorageDriver
  let blobs: BlobStore
  beforeEach(() => {
    driver = createMemoryDriver()
    blobs = createBlobStore(driver)
  })

  const data = bytesOf(5000)
  const digest = sha256(data)

  test('puts verified content under its digest and reads it back', async () => {
    const info = await blobs.put(digest, streamOf([data.subarray(0, 10), data.subarray(10)]).stream)
    expect(info).toMatchObject({ digest, size: 5000 })
    expect(await blobs.stat(digest)).toEqual(info)
    expect((await driver.stat(blobKey(digest)))!.size).toBe(5000)
    const whole = await blobs.get(digest)
    expect(whole!.info).toEqual(info)
    expect(await drain(whole!.body)).toEqual(data)
    const part = await blobs.get(digest, { offset: 100, length: 50 })
    expect(part!.range).toEqual({ offset: 100, length: 50 })
    expect(await drain(part!.body)).toEqual(data.subarray(100, 150))
  })

  test('refuses bytes that do not match the digest or size, storing nothing', async () => {
    await expect(blobs.put(digest, bytesOf(5000, 2))).rejects.toBeInstanceOf(DigestMismatchError)
    await expect(blobs.put(digest, streamOf([data]).stream, 4999)).rejects.toBeInstanceOf(
      DigestMismatchError
    )
    await expect(blobs.put(digest, data, 5001)).rejects.toBeInstanceOf(DigestMismatchError)
    expect(await blobs.stat(digest)).toBeNull()
    expect(await blobs.get(digest)).toBeNull()
  })

  test('passes the abort signal through', async () => {
    const stalled = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(data) })
    const ac = new AbortController()
    const put = blobs.put(digest, stalled, 10_000, ac.signal)
    setTimeout(() => ac.abort(), 10)
    await expect(put).rejects.toMatchObject({ name: 'AbortError' })
    expect(await blobs.stat(digest)).toBeNull()
  })

  test('refuses digests it cannot address', async () => {
    const bad = ['sha256:short', 'sha512:' + 'a'.repeat(128), 'sha256:' + 'A'.repeat(64)]
    for (const d of bad as Digest[]) {
      await expect(blobs.put(d, data)).rejects.toBeInstanceOf(InvalidKeyError)
      await expect(blobs.stat(d)).rejects.toBeInstanceOf(InvalidKeyError)
    }
  })

  test('bytes() reads small blobs whole, within a limit', async () => {
    expect(await blobs.bytes(digest, 5000)).toBeNull()
    await blobs.put(digest, data)
    expect(await blobs.bytes(digest, 5000)).toEqual(data)
    await expect(blobs.bytes(digest, 4999)).rejects.toBeInstanceOf(StorageError)
  })

  test('bytes() notices content that no longer matches its digest', async () => {
    await driver.put(blobKey(digest), bytesOf(5000, 3))
    await expect(blobs.bytes(digest, 1 << 20)).rejects.toBeInstanceOf(DigestMismatchError)
  })

  test('lists and deletes blobs, ignoring foreign keys', async () => {
    const other = bytesOf(10, 7)
    await blobs.put(digest, data)
    await blobs.put(sha256(other), other)
    await driver.put('blobs/sha256/zz/not-a-blob', other)
    await driver.put('images/x', other)
    const listed: Digest[] = []
    for await (const d of blobs.list()) listed.push(d)
    expect(listed.sort()).toEqual([digest, sha256(other)].sort())
    expect(await blobs.delete(digest)).toBe(true)
    expect(await blobs.delete(digest)).toBe(false)
    expect(await blobs.stat(digest)).toBeNull()
  })
})
