/**
 * The real docker CLI against the real Node entry: `docker import` (with `-c`), `docker
 * commit` of an image, `docker push` of a pulled and re-tagged image, checked with skopeo.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256 } from '../src/oci/digest.ts'
import { docker } from './support/docker-cli.ts'
import { startNode, type NodeProcess } from './support/edgepull.ts'
import { testbed, type Testbed } from './support/testbed.ts'

let open: Testbed
let server: NodeProcess
let work: string
let tarPath: string
const run = crypto.randomUUID().slice(0, 8)

beforeAll(async () => {
  open = await testbed('open')
  server = await startNode({ 'docker.io': { endpoint: open.url }, [open.host]: {} })
  work = mkdtempSync(join(tmpdir(), 'edgepull-cli-import-'))
  mkdirSync(join(work, 'root/bin'), { recursive: true })
  writeFileSync(join(work, 'root/bin/hello'), `#!/bin/sh\necho hello ${run}\n`)
  tarPath = join(work, 'f.tar')
  execFileSync('tar', ['-cf', tarPath, '-C', join(work, 'root'), '.'])
}, 120_000)
afterAll(async () => {
  await server?.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

const inspect = async (name: string) => {
  const r = await docker(server.host, ['image', 'inspect', name])
  expect(r.stderr).toBe('')
  return JSON.parse(r.stdout)[0]
}

describe('docker import and commit', () => {
  test('import -c prints the image ID; inspect shows the Cmd and the DiffID', async () => {
    const r = await docker(server.host, ['import', '-c', 'CMD ["sh"]', tarPath, 'myimg:v2'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/)
    const image = await inspect('myimg:v2')
    expect(image.Id).toBe(r.stdout.trim())
    expect(image.Config.Cmd).toEqual(['sh'])
    expect(image.RepoTags).toEqual(['myimg:v2'])
    expect(image.RootFS.Layers).toEqual([sha256(readFileSync(tarPath))])
    expect(image.Comment).toBe('Imported from -')
  }, 60_000)

  test('commit of an image with -c and -m prints the new ID', async () => {
    const args = ['commit', '-c', 'ENV GREETING=hi', '-m', 'tweaked', 'myimg:v2', 'myimg:v3']
    const r = await docker(server.host, args)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/)
    const image = await inspect('myimg:v3')
    expect(image.Id).toBe(r.stdout.trim())
    expect(image.Config.Env).toEqual(['GREETING=hi'])
    expect(image.Config.Cmd).toEqual(['sh'])
    expect(image.RootFS.Layers).toEqual([sha256(readFileSync(tarPath))])
  }, 60_000)
})

describe('docker push', () => {
  test('a pulled image re-tagged for the registry: Docker lines, then skopeo reads it', async () => {
    const target = `${open.host}/x/busybox-${run}`
    expect((await docker(server.host, ['pull', 'busybox'])).code).toBe(0)
    const tagged = await docker(server.host, ['tag', 'busybox', target])
    expect(tagged.stderr).toBe('')
    const r = await docker(server.host, ['push', target])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = r.stdout.trim().split('\n')
    const diffIds: string[] = (await inspect(target)).RootFS.Layers
    const ids = [...diffIds].reverse().map((d) => d.slice(7, 19))
    expect(out).toEqual([
      'Using default tag: latest',
      `The push refers to repository [${target}]`,
      ...ids.map((id) => `${id}: Preparing`),
      ...ids.map((id) => `${id}: Pushed`),
      expect.stringMatching(/^latest: digest: sha256:[0-9a-f]{64} size: \d+$/),
    ])
    const digest = out.at(-1)!.split(' ')[2]
    const skopeo = execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${target}:latest`], {
      encoding: 'utf8',
    })
    expect(JSON.parse(skopeo).Digest).toBe(digest)
    expect((await inspect(target)).RepoDigests).toContain(`${target}@${digest}`)

    const again = await docker(server.host, ['push', target])
    expect(again.code).toBe(0)
    for (const id of ids) expect(again.stdout).toContain(`${id}: Layer already exists`)
    expect(again.stdout).toContain(`latest: digest: ${digest} `)
  }, 120_000)

  test('the same image under another repository is mounted, not uploaded', async () => {
    const first = `${open.host}/x/busybox-${run}`
    const second = `${open.host}/y/busybox-${run}`
    expect((await docker(server.host, ['tag', first, second])).code).toBe(0)
    const r = await docker(server.host, ['push', second])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`: Mounted from x/busybox-${run}`)
    expect(r.stdout).not.toContain(': Pushed')
  }, 60_000)

  test('a tag that does not exist locally fails with Docker words', async () => {
    const r = await docker(server.host, ['push', `${open.host}/x/busybox-${run}:nope`])
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toBe(`tag does not exist: ${open.host}/x/busybox-${run}:nope`)
  }, 60_000)
})
