import { describe, expect, test } from 'bun:test'
import { addImage, memoryStores } from '../../test/support/image-store.ts'
import { imageHistory } from './history.ts'

const HISTORY = [
  { created: '2023-11-14T22:13:20Z', created_by: '/bin/sh -c #(nop) ADD busybox /' },
  { created: '2023-11-14T22:13:21Z', created_by: '/bin/sh -c #(nop)  ENV GREETING=hi', empty_layer: true },
  { created: '2023-11-14T22:13:22Z', created_by: '/bin/sh -c echo hello > /etc/motd' },
  { created: '2023-11-14T22:13:23Z', created_by: '/bin/sh -c rm /etc/motd', comment: 'cleanup' },
]

describe('imageHistory (moby ImageHistory)', () => {
  test('newest first; empty layers 0; the top entry has the ID and tags, the rest <missing>', async () => {
    const s = memoryStores()
    const rec = await addImage(s, {
      layers: ['busybox', 'motd', 'whiteout'],
      tags: ['docker.io/library/layered:v1', 'docker.io/library/layered:latest'],
      digestRepos: ['docker.io/library/layered'],
      config: { history: HISTORY },
    })
    expect(await imageHistory(s, 'layered:v1')).toEqual([
      { Comment: 'cleanup', Created: 1700000003, CreatedBy: '/bin/sh -c rm /etc/motd', Id: rec.id, Size: 8, Tags: ['layered:latest', 'layered:v1'] },
      { Comment: '', Created: 1700000002, CreatedBy: '/bin/sh -c echo hello > /etc/motd', Id: '<missing>', Size: 4, Tags: null },
      { Comment: '', Created: 1700000001, CreatedBy: '/bin/sh -c #(nop)  ENV GREETING=hi', Id: '<missing>', Size: 0, Tags: null },
      { Comment: '', Created: 1700000000, CreatedBy: '/bin/sh -c #(nop) ADD busybox /', Id: '<missing>', Size: 7, Tags: null },
    ])
  })

  test('an untagged image has null tags on top; no history is an empty list', async () => {
    const s = memoryStores()
    const untagged = await addImage(s, { layers: ['a'] })
    expect((await imageHistory(s, untagged.id))[0]).toMatchObject({ Id: untagged.id, Tags: null })
    const bare = await addImage(s, { layers: ['b'], config: { history: [] } })
    expect(await imageHistory(s, bare.id)).toEqual([])
  })

  test('more non-empty history entries than layers is a 500, as in moby', async () => {
    const s = memoryStores()
    const rec = await addImage(s, { layers: ['a'], config: { history: [{}, {}] } })
    await expect(imageHistory(s, rec.id)).rejects.toMatchObject({
      status: 500,
      message: 'too many non-empty layers in History section',
    })
    await expect(imageHistory(s, 'nope')).rejects.toMatchObject({ status: 404, message: 'No such image: nope:latest' })
  })
})
