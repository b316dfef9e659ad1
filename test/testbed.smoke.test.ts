import { expect, test } from 'bun:test'
import { testbed } from './support/testbed.ts'

test('the seeded open upstream answers /v2/ and lists busybox', async () => {
  const tb = await testbed('open')
  const res = await fetch(`${tb.url}/v2/library/busybox/tags/list`)
  expect(res.status).toBe(200)
  expect(await res.json()).toEqual({ name: 'library/busybox', tags: ['latest'] })
}, 120_000)
