/**
 * `docker save` and `docker load` (the real CLI) against the real Node entry: an archive
 * saved from one edgepull loads into a fresh one with the same image ID and tags, and what
 * the CLI prints is what it prints against dockerd.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileBytes, run, tempDir } from './support/archive.ts'
import { withEntry } from './support/archive-fixtures.ts'
import { docker } from './support/docker-cli.ts'
import { startNode, type NodeProcess } from './support/edgepull.ts'
import { testbed, type Testbed } from './support/testbed.ts'

let open: Testbed
let source: NodeProcess
const servers: NodeProcess[] = []
const work = tempDir()

const fresh = async () => {
  const s = await startNode({ 'docker.io': { endpoint: open.url } })
  servers.push(s)
  return s
}

const imageId = async (s: NodeProcess, name: string) => {
  const r = await docker(s.host, ['image', 'inspect', '--format', '{{.Id}}', name])
  expect(r.stderr).toBe('')
  return r.stdout.trim()
}

beforeAll(async () => {
  open = await testbed('open')
  source = await fresh()
  for (const name of ['busybox', 'layered:v1']) {
    const r = await docker(source.host, ['pull', name])
    if (r.code !== 0) throw new Error(`pull ${name}: ${r.stderr}`)
  }
}, 120_000)
afterAll(async () => {
  for (const s of servers) await s.stop()
  rmSync(work, { recursive: true, force: true })
})

describe('docker save / docker load', () => {
  test('save -o, then load -i into a fresh server: same image ID, Loaded image line', async () => {
    const file = join(work, 'busybox.tar')
    const saved = await docker(source.host, ['save', '-o', file, 'busybox'])
    expect(saved.stderr).toBe('')
    expect(saved.code).toBe(0)
    expect(existsSync(file)).toBe(true)
    expect(run(['tar', '-tf', file]).split('\n')).toContain('manifest.json')

    const target = await fresh()
    const loaded = await docker(target.host, ['load', '-i', file])
    expect(loaded.stderr).toBe('')
    expect(loaded.code).toBe(0)
    expect(loaded.stdout).toBe('Loaded image: busybox:latest\n')
    expect(await imageId(target, 'busybox')).toBe(await imageId(source, 'busybox'))
  }, 120_000)

  test('several images, gzip-compressed, through stdin', async () => {
    const file = join(work, 'two.tar')
    expect((await docker(source.host, ['save', '-o', file, 'busybox', 'layered:v1'])).code).toBe(0)
    run(['gzip', '-f', file])
    const target = await fresh()
    const proc = Bun.spawn(['docker', 'load'], {
      stdin: Bun.file(`${file}.gz`),
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ...process.env, DOCKER_HOST: `tcp://${target.host}`, DOCKER_CLI_HINTS: 'false' },
    })
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const printed = stdout.split('\n').filter(Boolean).sort()
    expect(printed).toEqual(['Loaded image: busybox:latest', 'Loaded image: layered:v1'])
    expect(await imageId(target, 'layered:v1')).toBe(await imageId(source, 'layered:v1'))
  }, 120_000)

  test('an image saved by ID loads untagged and prints its ID', async () => {
    const id = await imageId(source, 'busybox')
    const file = join(work, 'by-id.tar')
    expect((await docker(source.host, ['save', '-o', file, id.slice(7, 19)])).code).toBe(0)
    const target = await fresh()
    const loaded = await docker(target.host, ['load', '-i', file])
    expect(loaded.code).toBe(0)
    expect(loaded.stdout).toBe(`Loaded image ID: ${id}\n`)
  }, 120_000)

  test('errors: save of an unknown tag, load of a hostile archive', async () => {
    const missing = await docker(source.host, ['save', '-o', join(work, 'x.tar'), 'busybox:nope'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe('Error response from daemon: reference does not exist\n')

    const file = join(work, 'evil.tar')
    const good = join(work, 'good.tar')
    expect((await docker(source.host, ['save', '-o', good, 'busybox'])).code).toBe(0)
    writeFileSync(file, withEntry(fileBytes(good), 'file', '../evil'))
    const target = await fresh()
    const loaded = await docker(target.host, ['load', '-i', file])
    expect(loaded.code).toBe(1)
    expect(loaded.stderr).toContain('invalid archive: "../evil" is outside of the archive')
    const listed = await docker(target.host, ['image', 'inspect', 'busybox'])
    expect(listed.code).toBe(1)
  }, 120_000)
})
