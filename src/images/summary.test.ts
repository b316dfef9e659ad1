import { beforeAll, describe, expect, test } from 'bun:test'
import type { ImageRecord } from '../storage/images.ts'
import { addImage, memoryStores, type Stores } from '../../test/support/image-store.ts'
import { FilterArgs } from './filters.ts'
import { listImages, type Summary } from './summary.ts'

let s: Stores
let busybox: ImageRecord
let layered: ImageRecord
let old: ImageRecord
let orphan: ImageRecord

beforeAll(async () => {
  s = memoryStores()
  busybox = await addImage(s, {
    layers: ['bb'],
    tags: ['docker.io/library/busybox:latest'],
    digestRepos: ['docker.io/library/busybox'],
  })
  layered = await addImage(s, {
    layers: ['bb', 'motd', 'wh'],
    tags: ['docker.io/library/layered:v1', 'docker.io/library/layered:latest'],
    config: { created: '2023-11-14T22:13:23Z', config: { Labels: { 'org.testbed.kind': 'layered' } } },
  })
  old = await addImage(s, {
    layers: ['old layer'],
    digestRepos: ['docker.io/library/old'],
    config: { created: '2022-01-01T00:00:00Z' },
  })
  orphan = await addImage(s, { layers: ['orphan layer'], config: { created: '2021-01-01T00:00:00Z' } })
})

const list = (filters = '', sharedSize = false) =>
  listImages(s, { filters: FilterArgs.fromJSON(filters), sharedSize })
const ids = (xs: Summary[]) => xs.map((x) => x.Id)

describe('listImages (moby Images)', () => {
  test('every image, newest first, in ImageSummary’s shape', async () => {
    const all = await list()
    expect(ids(all)).toEqual([layered.id, busybox.id, old.id, orphan.id])
    expect(all[1]).toEqual({
      Containers: 0,
      Created: 1700000000,
      Id: busybox.id,
      Labels: null,
      ParentId: '',
      RepoDigests: [`busybox@${busybox.manifest.digest}`],
      RepoTags: ['busybox:latest'],
      SharedSize: -1,
      Size: 2,
    })
    // sorted as moby's reference store sorts: by the full string
    expect(all[0]!.RepoTags).toEqual(['layered:latest', 'layered:v1'])
    expect(all[0]!.RepoDigests).toBeNull()
    expect(all[0]!.Labels).toEqual({ 'org.testbed.kind': 'layered' })
    expect(all[0]!.Size).toBe(2 + 4 + 2)
    expect(all[2]!.RepoTags).toBeNull()
    expect(all[3]).toMatchObject({ RepoTags: null, RepoDigests: null })
  })

  test('reference globs keep only the matching references, and only images with one', async () => {
    const [bb, ...rest] = await list('{"reference":{"busy*":true}}')
    expect(rest).toEqual([])
    expect(bb).toMatchObject({ RepoTags: ['busybox:latest'], RepoDigests: [`busybox@${busybox.manifest.digest}`] })
    const v1 = await list('{"reference":{"layered:v1":true}}')
    expect(v1.map((x) => [x.Id, x.RepoTags, x.RepoDigests])).toEqual([[layered.id, ['layered:v1'], null]])
    const full = await list('{"reference":{"docker.io/library/*:latest":true}}')
    expect(full.map((x) => x.RepoTags)).toEqual([['layered:latest'], ['busybox:latest']])
    const byName = await list('{"reference":{"docker.io/library/old":true}}')
    expect(byName.map((x) => x.RepoDigests)).toEqual([[`old@${old.manifest.digest}`]])
    await expect(list('{"reference":{"[":true}}')).rejects.toThrow('syntax error in pattern')
  })

  test('dangling=true lists untagged images; dangling=false leaves out unreferenced ones', async () => {
    expect(ids(await list('{"dangling":{"true":true}}'))).toEqual([old.id, orphan.id])
    expect(ids(await list('{"dangling":["false"]}'))).toEqual([layered.id, busybox.id, old.id])
    await expect(list('{"dangling":{"maybe":true}}')).rejects.toThrow("invalid filter 'dangling=[maybe]'")
  })

  test('label, before, since and until', async () => {
    expect(ids(await list('{"label":{"org.testbed.kind":true}}'))).toEqual([layered.id])
    expect(ids(await list('{"label":{"org.testbed.kind=other":true}}'))).toEqual([])
    expect(ids(await list('{"before":{"layered:v1":true}}'))).toEqual([busybox.id, old.id, orphan.id])
    expect(ids(await list('{"since":{"busybox":true}}'))).toEqual([layered.id])
    // `old` has a digest reference but no tag: by name it is not found
    await expect(list('{"since":{"old":true}}')).rejects.toThrow('No such image: old:latest')
    expect(ids(await list(`{"since":{"${old.id}":true}}`))).toEqual([layered.id, busybox.id])
    expect(ids(await list('{"until":{"2023-01-01":true}}'))).toEqual([old.id, orphan.id])
    await expect(list('{"before":{"nope":true}}')).rejects.toThrow('No such image: nope:latest')
  })

  test('only the filters Docker knows', async () => {
    await expect(list('{"foo":{"x":true}}')).rejects.toThrow("invalid filter 'foo'")
    await expect(list('{"label!":{"x":true}}')).rejects.toThrow("invalid filter 'label!'")
  })

  test('SharedSize: bytes of blobs another image holds too', async () => {
    const sizes = Object.fromEntries((await list('', true)).map((x) => [x.Id, x.SharedSize]))
    expect(sizes).toEqual({ [layered.id]: 2, [busybox.id]: 2, [old.id]: 0, [orphan.id]: 0 })
  })
})
