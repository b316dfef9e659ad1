/**
 * The real docker CLI against the real Node entry (what `npm start` runs), with docker.io
 * pointed at the testbed registry: what a new user sees.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { docker, dockerConfig } from './support/docker-cli.ts'
import { startNode, type NodeProcess } from './support/edgepull.ts'
import { PASSWORD, testbed, USER, type Testbed } from './support/testbed.ts'

let open: Testbed
let token: Testbed
let server: NodeProcess

beforeAll(async () => {
  open = await testbed('open')
  token = await testbed('token')
  server = await startNode({ 'docker.io': { endpoint: open.url }, [token.host]: {} })
}, 120_000)
afterAll(() => server?.stop())

const digestOf = async (tb: Testbed, repo: string) =>
  (
    await fetch(`${tb.url}/v2/${repo}/manifests/latest`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' },
    })
  ).headers.get('docker-content-digest')

describe('docker pull', () => {
  test('busybox prints Docker lines and exits 0; again it is up to date', async () => {
    const first = await docker(server.host, ['pull', 'busybox'])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    const out = first.stdout.trim().split('\n')
    expect(out[0]).toBe('Using default tag: latest')
    expect(out[1]).toBe('latest: Pulling from library/busybox')
    expect(out).toContain(`Digest: ${await digestOf(open, 'library/busybox')}`)
    expect(out.at(-2)).toBe('Status: Downloaded newer image for busybox:latest')
    expect(out.at(-1)).toBe('docker.io/library/busybox:latest')
    expect(out.some((l) => /^[0-9a-f]{12}: Pull complete$/.test(l))).toBe(true)

    const second = await docker(server.host, ['pull', 'busybox'])
    expect(second.code).toBe(0)
    expect(second.stdout).toContain('Status: Image is up to date for busybox:latest')
  }, 60_000)

  test('--platform linux/arm64 multiarch prints the index digest', async () => {
    const r = await docker(server.host, ['pull', '--platform', 'linux/arm64', 'multiarch'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`Digest: ${await digestOf(open, 'library/multiarch')}`)
    expect(r.stdout).toContain('Status: Downloaded newer image for multiarch:latest')
  }, 60_000)

  test('busybox:nope fails in Docker words', async () => {
    const r = await docker(server.host, ['pull', 'busybox:nope'])
    expect(r.code).toBe(1)
    expect(r.stderr).toStartWith(
      'Error response from daemon: manifest for busybox:nope not found: manifest unknown: '
    )
  }, 60_000)

  test('a private image fails without credentials and pulls with them in config.json', async () => {
    const ref = `${token.host}/private/busybox`
    const denied = await docker(server.host, ['pull', ref])
    expect(denied.code).toBe(1)
    expect(denied.stderr).toContain(
      `pull access denied for ${ref}, repository does not exist or may require 'docker login'`
    )
    const cfg = dockerConfig({ [token.host]: `${USER}:${PASSWORD}` })
    const ok = await docker(server.host, ['pull', ref], cfg)
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain(`Status: Downloaded newer image for ${ref}:latest`)
  }, 60_000)

  test('credentials never reach the server log', () => {
    expect(server.output()).not.toContain(PASSWORD)
  })
})

describe('negotiation', () => {
  test('docker version talks to /version', async () => {
    const r = await docker(server.host, ['version', '--format', '{{.Server.APIVersion}}'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe('1.51')
  })
})
