/**
 * The real docker CLI's image-management commands against the real Node entry, on images
 * pulled from the testbed: images, image inspect, history, tag, rmi and image prune.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { docker } from './support/docker-cli.ts'
import { startNode, type NodeProcess } from './support/edgepull.ts'
import { testbed, type Testbed } from './support/testbed.ts'

let open: Testbed
let server: NodeProcess

const run = (...args: string[]) => docker(server.host, args)

/** A successful command's stdout lines. */
async function ok(...args: string[]): Promise<string[]> {
  const r = await run(...args)
  expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' })
  return r.stdout.trimEnd().split('\n')
}

beforeAll(async () => {
  open = await testbed('open')
  server = await startNode({ 'docker.io': { endpoint: open.url } })
  for (const ref of ['busybox', 'layered:latest', 'layered:v1']) await ok('pull', '-q', ref)
}, 120_000)
afterAll(() => server?.stop())

describe('docker images', () => {
  test('the table lists every tag; a reference narrows it', async () => {
    const table = await ok('images')
    expect(table[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/)
    const rows = table.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 2).join(':'))
    expect(rows.sort()).toEqual(['busybox:latest', 'layered:latest', 'layered:v1'])
    const id = (await ok('image', 'inspect', '--format', '{{.Id}}', 'busybox'))[0]!
    const format = '{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}}'
    const busybox = await ok('images', '--digests', '--format', format, 'busybox')
    expect(busybox).toEqual([expect.stringMatching(new RegExp(`^busybox:latest ${id.slice(7, 19)} sha256:[0-9a-f]{64}$`))])
    expect(await ok('images', '--format', '{{.Tag}}', 'layered:v*')).toEqual(['v1'])
    expect((await run('images', '--filter', 'dangling=true', '-q')).stdout).toBe('')
  }, 60_000)
})

describe('docker image inspect', () => {
  test('prints the fields Docker prints, and [] plus an error for a missing image', async () => {
    const [image] = JSON.parse((await run('image', 'inspect', 'layered:v1')).stdout)
    expect(image).toMatchObject({
      RepoTags: ['layered:latest', 'layered:v1'],
      Author: 'testbed',
      Comment: 'cleanup',
      Architecture: 'amd64',
      Os: 'linux',
      Config: { Labels: { 'org.testbed.kind': 'layered' }, WorkingDir: '/', ExposedPorts: { '8080/tcp': {} } },
      RootFS: { Type: 'layers' },
      Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
    })
    expect(image.Id).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(image.RepoDigests).toEqual([expect.stringMatching(/^layered@sha256:[0-9a-f]{64}$/)])
    expect(image.RootFS.Layers).toHaveLength(3)
    const missing = await run('image', 'inspect', 'nope')
    expect(missing.code).toBe(1)
    expect(missing.stdout.trim()).toBe('[]')
    expect(missing.stderr.trim()).toBe('Error response from daemon: No such image: nope:latest')
  }, 60_000)
})

describe('docker history', () => {
  test('newest first, <missing> below the top, empty layers 0B', async () => {
    const id = (await ok('image', 'inspect', '--format', '{{.Id}}', 'layered'))[0]!
    const rows = await ok('history', '--no-trunc', '--format', '{{.ID}}|{{.Size}}|{{.CreatedBy}}|{{.Comment}}', 'layered')
    expect(rows.map((r) => r.split('|')[0])).toEqual([id, '<missing>', '<missing>', '<missing>'])
    expect(rows.map((r) => r.split('|').slice(2).join('|'))).toEqual([
      '/bin/sh -c rm /etc/motd|cleanup',
      '/bin/sh -c echo hello > /etc/motd|',
      '/bin/sh -c #(nop)  ENV GREETING=hi|',
      '/bin/sh -c #(nop) ADD busybox /|',
    ])
    expect(rows[2]!.split('|')[1]).toBe('0B')
    const table = await ok('history', 'layered')
    expect(table[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/)
  }, 60_000)
})

describe('docker tag and docker rmi', () => {
  test('tag, then untag; a missing image fails, with -f it does not', async () => {
    expect(await run('tag', 'busybox', 'myrepo/foo:v1')).toEqual({ code: 0, stdout: '', stderr: '' })
    expect(await ok('images', '--format', '{{.Repository}}:{{.Tag}}', 'myrepo/foo')).toEqual(['myrepo/foo:v1'])
    const at = (await ok('image', 'inspect', '--format', '{{.Metadata.LastTagTime}}', 'myrepo/foo:v1'))[0]!
    expect(at).not.toStartWith('0001-01-01')
    expect(await ok('rmi', 'myrepo/foo:v1')).toEqual(['Untagged: myrepo/foo:v1'])

    const missing = await run('rmi', 'nope')
    expect(missing.code).toBe(1)
    expect(missing.stderr.trim()).toBe('Error response from daemon: No such image: nope:latest')
    const forced = await run('rmi', '-f', 'nope')
    expect(forced.code).toBe(0)
    expect(forced.stderr.trim()).toBe('Error response from daemon: No such image: nope:latest')
  }, 60_000)

  test('an ID referenced from two repositories is a conflict; -f deletes it', async () => {
    await ok('tag', 'busybox', 'mybox')
    const id = (await ok('image', 'inspect', '--format', '{{.Id}}', 'busybox'))[0]!
    const short = id.slice(7, 19)
    const conflict = await run('rmi', short)
    expect(conflict.code).toBe(1)
    expect(conflict.stderr.trim()).toBe(
      `Error response from daemon: conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`
    )
    const lines = await ok('rmi', '-f', short)
    expect(lines).toContain('Untagged: busybox:latest')
    expect(lines).toContain('Untagged: mybox:latest')
    expect(lines).toContain(`Deleted: ${id}`)
    expect((await run('image', 'inspect', 'busybox')).code).toBe(1)
  }, 60_000)
})

describe('docker image prune', () => {
  test('-a -f deletes every image and says how much space it reclaimed', async () => {
    const id = (await ok('image', 'inspect', '--format', '{{.Id}}', 'layered'))[0]!
    const out = await ok('image', 'prune', '-a', '-f')
    expect(out[0]).toBe('Deleted Images:')
    expect(out).toContain('untagged: layered:latest')
    expect(out).toContain('untagged: layered:v1')
    expect(out).toContain(`deleted: ${id}`)
    expect(out.at(-1)).toMatch(/^Total reclaimed space: \d+(\.\d+)?[kM]?B$/)
    expect(await ok('images', '-q')).toEqual([''])
    expect(await ok('image', 'prune', '-f')).toEqual(['Total reclaimed space: 0B'])
  }, 60_000)
})
