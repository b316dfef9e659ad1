import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesOf, drain, streamOf } from '../../test/storage-conformance.ts'
import { sha256 } from '../oci/digest.ts'
import { createBlobStore } from './blobs.ts'
import type { StorageDriver } from './driver.ts'
import { createFsDriver } from './fs.ts'
import { UPLOADS_PREFIX } from './keys.ts'
import { createMemoryDriver } from './memory.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const drivers: [string, () => Promise<StorageDriver>][] = [
  ['memory', async () => createMemoryDriver()],
  [
    'fs',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'edgepull-computed-'))
      dirs.push(dir)
      return createFsDriver(dir)
    },
  ],
]

const leftovers = async (driver: StorageDriver) => {
  const keys: string[] = []
  for await (const k of driver.list(UPLOADS_PREFIX)) keys.push(k)
  return keys
}

for (const [name, make] of drivers) {
  describe(`putComputed (${name})`, () => {
    test('stores a stream under the digest learnt while reading it, staging nothing behind', async () => {
      const driver = await make()
      const blobs = createBlobStore(driver)
      const data = bytesOf(300_000)
      const info = await blobs.putComputed(streamOf([data.subarray(0, 7), data.subarray(7)]).stream)
      expect(info).toMatchObject({ digest: sha256(data), size: 300_000 })
      expect(await drain((await blobs.get(info.digest))!.body)).toEqual(data)
      expect(await leftovers(driver)).toEqual([])
      // the same bytes again: same blob, still nothing left over
      const again = await blobs.putComputed(streamOf([data]).stream)
      expect(again.digest).toBe(info.digest)
      expect(await leftovers(driver)).toEqual([])
    })

    test('a failing body stores nothing and leaves no staged upload', async () => {
      const driver = await make()
      const blobs = createBlobStore(driver)
      let sent = false
      const failing = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent) c.error(new Error('client went away'))
          else c.enqueue(bytesOf(1000))
          sent = true
        },
      })
      await expect(blobs.putComputed(failing)).rejects.toThrow('client went away')
      expect(await leftovers(driver)).toEqual([])
      for await (const d of blobs.list()) throw new Error(`stored ${d}`)
    })
  })
}
