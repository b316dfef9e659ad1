import { afterEach, describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addImage, type Stores } from '../../test/support/image-store.ts'
import { sha256, type Digest } from '../oci/digest.ts'
import { createBlobStore } from './blobs.ts'
import type { StorageDriver } from './driver.ts'
import { createFsDriver } from './fs.ts'
import { ownerPrefix } from './fs-temps.ts'
import { createImageStore } from './images.ts'
import { blobKey, mirrorLayerKey, mirrorRevisionKey, mirrorTagKey, uploadKey } from './keys.ts'
import { createMemoryDriver } from './memory.ts'
import { verifyStore } from './verify.ts'
import { problemLine, summaryLine } from './verify-report.ts'

const REPO = { domain: 'docker.io', path: 'library/busybox' }
const TAG = 'docker.io/library/busybox:latest'
const enc = new TextEncoder()

/** A store over one driver, and how to flip a byte of a stored blob behind the driver's back. */
interface Planted extends Stores {
  flipByte(d: Digest): Promise<void>
}

const roots: string[] = []
afterEach(async () => {
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true })
})

const stores = (driver: StorageDriver) => ({
  driver,
  images: createImageStore(driver),
  blobs: createBlobStore(driver),
})

const kinds: Record<string, () => Promise<Planted & { root?: string }>> = {
  memory: async () => {
    const s = stores(createMemoryDriver())
    // Overwritten without a digest check: what a bad disk would have done.
    const flipByte = async (d: Digest) => {
      const bytes = new Uint8Array(await new Response((await s.driver.get(blobKey(d)))!.body).arrayBuffer())
      bytes[0]! ^= 1
      await s.driver.put(blobKey(d), bytes)
    }
    return { ...s, flipByte }
  },
  fs: async () => {
    const root = await mkdtemp(join(tmpdir(), 'edgepull-verify-'))
    roots.push(root)
    const s = stores(await createFsDriver(root))
    const flipByte = async (d: Digest) => {
      const path = join(root, ...blobKey(d).split('/'))
      const bytes = await readFile(path)
      bytes[0]! ^= 1
      await writeFile(path, bytes)
    }
    return { ...s, flipByte, root }
  },
}

/** An Engine image with a tag, and the mirror's links for the same repository. */
async function populate(s: Stores) {
  const rec = await addImage(s, { layers: ['layer one', 'layer two'], tags: [TAG] })
  const manifest = rec.manifest.digest
  const put = (key: string, v: object) => s.driver.put(key, enc.encode(JSON.stringify(v)))
  await put(mirrorTagKey(REPO, 'latest'), { digest: manifest, mediaType: rec.manifest.mediaType, size: 1, checkedAt: 0 })
  await put(mirrorRevisionKey(REPO, manifest), { mediaType: rec.manifest.mediaType, size: 1 })
  await put(mirrorLayerKey(REPO, rec.layers[0]!.digest), {})
  return rec
}

for (const [name, make] of Object.entries(kinds)) {
  describe(`verifyStore over the ${name} driver`, () => {
    test('a sound store is clean; blobs nothing holds are counted, not blamed', async () => {
      const s = await make()
      await populate(s)
      const orphan = enc.encode('left by a load that never finished')
      await s.blobs.put(sha256(orphan), orphan)
      const r = await verifyStore(s.driver)
      expect(r.problems).toEqual([])
      expect(r.clean).toBe(true)
      expect(r.checked).toMatchObject({ blobs: 5, images: 1, tags: 1, mirrorKeys: 3 })
      expect(r.unreferenced).toEqual({ blobs: 1, bytes: orphan.byteLength })
      expect(summaryLine(r)).toStartWith(`${name} store clean: 5 blobs`)
    })

    test('a flipped byte in a blob: reported, then removed with what needs it', async () => {
      const s = await make()
      const rec = await populate(s)
      const layer = rec.layers[0]!.digest
      await s.flipByte(layer)
      const r = await verifyStore(s.driver)
      expect(r.clean).toBe(false)
      expect(r.problems.map((p) => [p.kind, p.key, p.repaired])).toEqual([
        ['corrupt-blob', blobKey(layer), false],
        ['dangling-image', `images/${rec.id.slice(7)}`, false],
        ['dangling-link', mirrorLayerKey(REPO, layer), false],
      ])
      expect(problemLine(r.problems[0]!)).toMatch(/^corrupt-blob blobs\/sha256\/.+: 9 bytes that hash to sha256:/)

      const fixed = await verifyStore(s.driver, { repair: true })
      expect(fixed.problems.map((p) => [p.kind, p.repaired])).toEqual([
        ['corrupt-blob', true],
        ['dangling-image', true],
        // The record is gone, so its tag now names nothing.
        ['dangling-tag', true],
        ['dangling-link', true],
      ])
      expect(fixed.clean).toBe(true)
      expect(await s.blobs.stat(layer)).toBeNull()
      expect(await s.images.getImage(rec.id)).toBeNull()
      expect(await s.images.getTag(TAG)).toBeNull()
      // The mirror's manifest and its other layer are sound and stay.
      expect(await s.driver.stat(mirrorTagKey(REPO, 'latest'))).not.toBeNull()
      expect(await s.blobs.stat(rec.layers[1]!.digest)).not.toBeNull()
      expect((await verifyStore(s.driver)).problems).toEqual([])
    })

    test('records and links to a missing blob are dangling; unparsable ones are bad', async () => {
      const s = await make()
      const rec = await populate(s)
      await s.blobs.delete(rec.manifest.digest)
      await s.driver.put(mirrorTagKey(REPO, 'broken'), enc.encode('{"digest": "half a'))
      await s.images.setTag('docker.io/library/gone:latest', `sha256:${'e'.repeat(64)}`)
      const r = await verifyStore(s.driver)
      // Listing order is the driver's: compare in key order.
      const found = r.problems.map((p) => [p.kind, p.key]).sort((x, y) => x[1]!.localeCompare(y[1]!))
      expect(found).toEqual([
        ['dangling-tag', 'engine/tags/docker.io/library/gone%3alatest'],
        ['dangling-image', `images/${rec.id.slice(7)}`],
        ['dangling-link', mirrorRevisionKey(REPO, rec.manifest.digest)],
        ['bad-record', mirrorTagKey(REPO, 'broken')],
        ['dangling-link', mirrorTagKey(REPO, 'latest')],
      ])
      expect(r.problems.find((p) => p.kind === 'dangling-image')!.detail).toBe(`missing ${rec.manifest.digest}`)
      const fixed = await verifyStore(s.driver, { repair: true, images: s.images })
      expect(fixed.problems.every((p) => p.repaired)).toBe(true)
      expect(await s.images.getImage(rec.id)).toBeNull()
      // The layers are sound: they stay, for the next pull to find.
      expect(await s.blobs.stat(rec.layers[0]!.digest)).not.toBeNull()
      expect((await verifyStore(s.driver)).clean).toBe(true)
    })

    test("an import's staging copy left by a crash is a stray once old; foreign keys are only reported", async () => {
      const s = await make()
      await s.driver.put(uploadKey('0b7d4a5e-crashed'), enc.encode('staged layer'))
      await s.driver.put('images/not-an-id', enc.encode('{}'))
      expect((await verifyStore(s.driver)).problems.map((p) => p.kind)).toEqual(['stray-key'])
      const later = () => Date.now() + 2 * 3600_000
      const r = await verifyStore(s.driver, { repair: true, now: later })
      expect(r.problems.map((p) => [p.kind, p.repaired])).toEqual([
        ['stray-key', false],
        ['stray-upload', true],
      ])
      expect(r.clean).toBe(false)
      expect(await s.driver.stat(uploadKey('0b7d4a5e-crashed'))).toBeNull()
      expect(await s.driver.stat('images/not-an-id')).not.toBeNull()
    })
  })
}

describe('verifyStore over the fs driver', () => {
  test("a dead writer's temp file is a stray; a live process's is not", async () => {
    const root = await mkdtemp(join(tmpdir(), 'edgepull-verify-'))
    roots.push(root)
    const driver = await createFsDriver(root, { tidy: false })
    const dead = Bun.spawn(['true'])
    await dead.exited
    const leftover = join(root, '.tmp', `${await ownerPrefix(dead.pid)}0c0ffee0`)
    await mkdir(leftover)
    await writeFile(join(leftover, 'a-temp-file'), 'half of a blob')
    await driver.put('blobs/sha256/xx/x', new Uint8Array(1)) // our own temp directory: never a stray
    const r = await verifyStore(driver)
    expect(r.problems.map((p) => [p.kind, p.key, p.detail.split(',')[0]])).toEqual([
      ['stray-key', 'blobs/sha256/xx/x', 'not a blob key'],
      ['stray-temp', leftover.split('/').at(-1)!, '14 bytes'],
    ])
    await verifyStore(driver, { repair: true })
    expect((await readdir(join(root, '.tmp'))).map((n) => n.split('~')[2])).toEqual([String(process.pid)])
  })
})
