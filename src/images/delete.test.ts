import { describe, expect, test } from 'bun:test'
import { hex, shortId, type Digest } from '../oci/digest.ts'
import { mirrorLayerKey, mirrorRevisionKey } from '../storage/keys.ts'
import { addBlob, addImage, blobList, memoryStores, type Stores } from '../../test/support/image-store.ts'
import { chainIds } from './chain.ts'
import { deleteImage, isSingleReference } from './delete.ts'
import { imageRef } from './references.ts'
import { blobsOf } from './release.ts'
import { parseNormalizedNamed } from '../oci/reference.ts'

async function fixture() {
  const s = memoryStores()
  const busybox = await addImage(s, {
    layers: ['bb'],
    tags: ['docker.io/library/busybox:latest'],
    digestRepos: ['docker.io/library/busybox'],
  })
  const layered = await addImage(s, {
    layers: ['bb', 'motd', 'wh'],
    tags: ['docker.io/library/layered:latest', 'docker.io/library/layered:v1'],
    digestRepos: ['docker.io/library/layered'],
  })
  return { s, busybox, layered }
}

const sizeOf = async (s: Stores, ds: Iterable<Digest>) => {
  let n = 0
  for (const d of ds) n += (await s.blobs.stat(d))?.size ?? 0
  return n
}

describe('deleteImage by reference', () => {
  test('untags, drops the repository’s digests with its last tag, deletes, frees unshared blobs', async () => {
    const { s, busybox, layered } = await fixture()
    const before = await blobList(s)
    const own = [busybox.id, busybox.manifest.digest] // 'bb' is layered's bottom layer too
    const size = await sizeOf(s, own)
    const { items, freed } = await deleteImage(s, 'busybox')
    expect(items).toEqual([
      { Untagged: 'busybox:latest' },
      { Untagged: `busybox@${busybox.manifest.digest}` },
      { Deleted: busybox.id },
      // its one layer chain is layered's bottom chain too: nothing released
    ])
    expect(freed).toBe(size)
    const after = await blobList(s)
    expect([...before].filter((d) => !after.has(d)).sort()).toEqual([...own].sort())
    expect(after.has(layered.layers[0]!.digest)).toBe(true)
    expect(await s.images.getImage(busybox.id)).toBeNull()
  })

  test('another tag left: only the untag', async () => {
    const { s, layered } = await fixture()
    expect((await deleteImage(s, 'layered')).items).toEqual([{ Untagged: 'layered:latest' }])
    const rec = await s.images.getImage(layered.id)
    expect(rec?.repoDigests).toEqual(layered.repoDigests)
    const last = await deleteImage(s, 'docker.io/library/layered:v1')
    const chains = chainIds(layered.layers.map((l) => l.diffId))
    expect(last.items).toEqual([
      { Untagged: 'layered:v1' },
      { Untagged: `layered@${layered.manifest.digest}` },
      { Deleted: layered.id },
      { Deleted: chains[2]! },
      { Deleted: chains[1]! },
    ])
  })

  test('a digest reference goes by itself; the tags stay', async () => {
    const { s, busybox } = await fixture()
    const { items } = await deleteImage(s, `busybox@${busybox.manifest.digest}`)
    expect(items).toEqual([{ Untagged: `busybox@${busybox.manifest.digest}` }])
    expect((await s.images.getImage(busybox.id))?.repoDigests).toEqual([])
    expect(await s.images.getTag('docker.io/library/busybox:latest')).toBe(busybox.id)
  })

  test('not found and bad names', async () => {
    const { s } = await fixture()
    await expect(deleteImage(s, 'nope')).rejects.toMatchObject({ status: 404, message: 'No such image: nope:latest' })
    await expect(deleteImage(s, 'Nope')).rejects.toMatchObject({ status: 400 })
  })
})

describe('deleteImage by ID', () => {
  test('one tag and its repository’s digests: all untagged, then deleted', async () => {
    const { s, busybox } = await fixture()
    const { items } = await deleteImage(s, hex(busybox.id).slice(0, 12))
    expect(items).toEqual([
      { Untagged: 'busybox:latest' },
      { Untagged: `busybox@${busybox.manifest.digest}` },
      { Deleted: busybox.id },
    ])
  })

  test('two tags, even in one repository, need force (moby’s isSingleReference)', async () => {
    const { s, layered } = await fixture()
    await expect(deleteImage(s, layered.id)).rejects.toMatchObject({ status: 409 })
    const { items } = await deleteImage(s, layered.id, { force: true })
    expect(items.slice(0, 4)).toEqual([
      { Untagged: 'layered:latest' },
      { Untagged: 'layered:v1' },
      { Untagged: `layered@${layered.manifest.digest}` },
      { Deleted: layered.id },
    ])
  })

  test('references in several repositories: 409 unless forced', async () => {
    const { s, busybox } = await fixture()
    await s.images.setTag('docker.io/library/mybox:latest', busybox.id)
    await expect(deleteImage(s, busybox.id)).rejects.toMatchObject({
      status: 409,
      message: `conflict: unable to delete ${shortId(busybox.id)} (must be forced) - image is referenced in multiple repositories`,
    })
    const { items } = await deleteImage(s, busybox.id, { force: true })
    expect(items).toEqual([
      { Untagged: 'busybox:latest' },
      { Untagged: `busybox@${busybox.manifest.digest}` },
      { Untagged: 'mybox:latest' },
      { Deleted: busybox.id },
    ])
    expect(await s.images.getTag('docker.io/library/mybox:latest')).toBeNull()
  })

  test('an untagged image goes straight away, all its chains with it', async () => {
    const s = memoryStores()
    const rec = await addImage(s, { layers: ['x', 'y'] })
    const chains = chainIds(rec.layers.map((l) => l.diffId))
    const { items, freed } = await deleteImage(s, rec.id)
    expect(items).toEqual([{ Deleted: rec.id }, { Deleted: chains[1]! }, { Deleted: chains[0]! }])
    expect(freed).toBeGreaterThan(0)
    expect(await blobList(s)).toEqual(new Set())
  })
})

describe('blobs that stay', () => {
  test('what the mirror links, and an index another record came through', async () => {
    const s = memoryStores()
    const index = await addBlob(s, '{"manifests":[]}')
    const amd = await addImage(s, { layers: ['amd'], index, digestRepos: ['docker.io/library/multi'] })
    const arm = await addImage(s, {
      layers: ['arm'],
      index,
      platform: { os: 'linux', architecture: 'arm64' },
      tags: ['docker.io/library/multi:latest'],
    })
    const repo = { domain: 'docker.io', path: 'library/multi' }
    await s.driver.put(mirrorLayerKey(repo, amd.layers[0]!.digest), new Uint8Array())
    await s.driver.put(mirrorRevisionKey(repo, amd.manifest.digest), new Uint8Array())
    await deleteImage(s, amd.id)
    const left = await blobList(s)
    expect(left.has(index)).toBe(true) // arm's record holds it
    expect(left.has(amd.layers[0]!.digest)).toBe(true) // linked by the mirror
    expect(left.has(amd.manifest.digest)).toBe(true) // linked by the mirror
    expect(left.has(amd.id)).toBe(false)
    await deleteImage(s, arm.id)
    expect((await blobList(s)).has(index)).toBe(false)
    expect(blobsOf(arm)).toContain(index)
  })

  test('concurrent deletes of two images sharing a layer leave nothing behind', async () => {
    const s = memoryStores()
    const a = await addImage(s, { layers: ['shared', 'a'] })
    const b = await addImage(s, { layers: ['shared', 'b'] })
    await Promise.all([deleteImage(s, a.id), deleteImage(s, b.id)])
    expect(await blobList(s)).toEqual(new Set())
  })
})

test('isSingleReference (moby)', () => {
  const refs = (...xs: string[]) => xs.map((x) => imageRef(parseNormalizedNamed(x)))
  const d = `sha256:${'1'.repeat(64)}`
  expect(isSingleReference(refs())).toBe(false)
  expect(isSingleReference(refs('a'))).toBe(true)
  expect(isSingleReference(refs('a:1', `a@${d}`))).toBe(true)
  expect(isSingleReference(refs('a:1', 'a:2'))).toBe(false)
  expect(isSingleReference(refs('a:1', `b@${d}`))).toBe(false)
  expect(isSingleReference(refs(`a@${d}`, `a@sha256:${'2'.repeat(64)}`))).toBe(true)
  expect(isSingleReference(refs(`a@${d}`, `b@${d}`))).toBe(false)
})
