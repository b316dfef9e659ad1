import { describe, expect, test } from 'bun:test'
import { addImage, blobList, memoryStores, type Stores } from '../../test/support/image-store.ts'
import { FilterArgs } from './filters.ts'
import { pruneImages } from './prune.ts'
import { lease } from '../storage/lock.ts'

async function fixture() {
  const s = memoryStores()
  const tagged = await addImage(s, {
    layers: ['bb'],
    tags: ['docker.io/library/busybox:latest'],
    config: { config: { Labels: { keep: 'yes' } } },
  })
  const digestOnly = await addImage(s, {
    layers: ['bb', 'old'],
    digestRepos: ['docker.io/library/old'],
    config: { created: '2022-01-01T00:00:00Z' },
  })
  const bare = await addImage(s, { layers: ['bare'], config: { created: '2021-01-01T00:00:00Z' } })
  return { s, tagged, digestOnly, bare }
}

const prune = (s: Stores, filters = '') => pruneImages(s, FilterArgs.fromJSON(filters))

async function freedBy(s: Stores, run: () => Promise<{ SpaceReclaimed: number }>) {
  const sizes = new Map<string, number>()
  for (const d of await blobList(s)) sizes.set(d, (await s.blobs.stat(d))!.size)
  const { SpaceReclaimed } = await run()
  const left = await blobList(s)
  const gone = [...sizes].filter(([d]) => !left.has(d as never)).reduce((n, [, size]) => n + size, 0)
  return { SpaceReclaimed, gone }
}

describe('pruneImages (moby ImagesPrune)', () => {
  test('by default, images without a tag; SpaceReclaimed is what left the store', async () => {
    const { s, tagged, digestOnly, bare } = await fixture()
    let report
    const { SpaceReclaimed, gone } = await freedBy(s, async () => (report = await prune(s)))
    expect(SpaceReclaimed).toBe(gone)
    expect(SpaceReclaimed).toBeGreaterThan(0)
    expect(report!.ImagesDeleted).toContainEqual({ Untagged: `old@${digestOnly.manifest.digest}` })
    expect(report!.ImagesDeleted).toContainEqual({ Deleted: digestOnly.id })
    expect(report!.ImagesDeleted).toContainEqual({ Deleted: bare.id })
    expect(await s.images.getImage(tagged.id)).not.toBeNull()
    expect((await blobList(s)).has(tagged.layers[0]!.digest)).toBe(true)
  })

  test('nothing to do: ImagesDeleted null, nothing reclaimed', async () => {
    const s = memoryStores()
    await addImage(s, { layers: ['a'], tags: ['docker.io/library/a:latest'] })
    expect(await prune(s)).toEqual({ ImagesDeleted: null, SpaceReclaimed: 0 })
  })

  test('dangling=false removes every image (no container uses one here)', async () => {
    const { s } = await fixture()
    const { SpaceReclaimed, gone } = await freedBy(s, () => prune(s, '{"dangling":{"false":true}}'))
    expect(SpaceReclaimed).toBe(gone)
    expect(await blobList(s)).toEqual(new Set())
  })

  test('until, label and label!', async () => {
    const { s, tagged, digestOnly, bare } = await fixture()
    const young = await addImage(s, { layers: ['new'], config: { created: '2030-01-01T00:00:00Z' } })
    const images = [tagged.id, digestOnly.id, bare.id, young.id]
    const all = '"dangling":{"false":true}'
    const deleted = async (filters: string) =>
      ((await prune(s, filters)).ImagesDeleted ?? [])
        .flatMap((i) => ('Deleted' in i && images.includes(i.Deleted as never) ? [i.Deleted] : []))
        .sort()
    expect(await deleted(`{${all},"label!":{"keep":true},"until":{"2025-01-01":true}}`)).toEqual(
      [digestOnly.id, bare.id].sort()
    )
    expect(await deleted(`{${all},"label":{"keep=no":true}}`)).toEqual([])
    expect(await deleted(`{${all},"until":{"2025-01-01":true}}`)).toEqual([tagged.id])
    expect(await deleted(`{${all},"label":{"keep":true}}`)).toEqual([])
    // until 2025 spared the young one
    expect(await deleted(`{${all}}`)).toEqual([young.id])
  })

  test('bad filters: 400 in Docker’s words', async () => {
    const { s } = await fixture()
    await expect(prune(s, '{"reference":{"x":true}}')).rejects.toMatchObject({
      status: 400,
      message: "invalid filter 'reference'",
    })
    await expect(prune(s, '{"until":{"1h":true,"2h":true}}')).rejects.toMatchObject({
      status: 400,
      message: 'more than one until filter specified',
    })
    await expect(prune(s, '{"until":{"soon":true}}')).rejects.toMatchObject({
      status: 400,
      message: 'failed to parse value as time or duration: "soon"',
    })
  })

  test('a second prune while one runs is a 409', async () => {
    const { s } = await fixture()
    const first = prune(s)
    await expect(prune(s)).rejects.toMatchObject({ status: 409, message: 'a prune operation is already running' })
    await first
    expect(await prune(s)).toEqual({ ImagesDeleted: null, SpaceReclaimed: 0 })
  })

  test('blobs a pull in flight has leased stay until the lease ends', async () => {
    const { s, bare } = await fixture()
    const release = lease(s.blobs, [bare.layers[0]!.digest])
    await prune(s, '{"dangling":["false"]}')
    expect(await s.images.getImage(bare.id)).toBeNull()
    expect(await blobList(s)).toContain(bare.layers[0]!.digest)
    release()
  })
})
