/**
 * The real upstream registry (CNCF distribution) from ../shared/testbed, started once per
 * test process and mode, seeded with the deterministic test images, stopped at exit.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort } from './ports.ts'

export type AuthMode = 'open' | 'basic' | 'token'

export interface Testbed {
  readonly mode: AuthMode
  readonly port: number
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** `127.0.0.1:PORT`, as a registry host in references. */
  readonly host: string
  stop(): void
}

export const TESTBED_DIR = resolve(import.meta.dir, '../../../shared/testbed')
const ROOT = resolve(import.meta.dir, '../../.testbed')
/** A pull-scoped anonymous token from a token-mode testbed, to read the upstream directly. */
export async function anonymousToken(tb: Testbed, repo: string): Promise<string> {
  const challenge = (await fetch(`${tb.url}/v2/`)).headers.get('www-authenticate') ?? ''
  const realm = /realm="([^"]+)"/.exec(challenge)?.[1]
  const service = /service="([^"]+)"/.exec(challenge)?.[1]
  if (!realm || !service) throw new Error(`${tb.url} sent no Bearer challenge: ${challenge}`)
  const query = new URLSearchParams({ service, scope: `repository:${repo}:pull` })
  const json = (await (await fetch(`${realm}?${query}`)).json()) as {
    token?: string
    access_token?: string
  }
  return json.token ?? json.access_token!
}

export const USER = 'alice'
export const PASSWORD = 'secret'

const running = new Map<string, Promise<Testbed>>()
const stoppers: Array<() => void> = []

/** Stops every testbed this process started; test/support/setup.ts calls it after all tests. */
export function stopTestbeds(): void {
  for (const stop of stoppers.splice(0)) stop()
  running.clear()
}

/** Images are built once per checkout (make-images.py is deterministic) and shared. */
function imagesDir(bigMiB: number): string {
  const dir = join(ROOT, `images-${bigMiB}`)
  if (!existsSync(dir)) {
    // Built aside and renamed, so an interrupted build is never mistaken for a finished one.
    const tmp = mkdtempSync(join(ROOT, 'images-tmp-'))
    execFileSync('python3', [join(TESTBED_DIR, 'make-images.py'), tmp, '--big-mib', String(bigMiB)], {
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    renameSync(tmp, dir)
  }
  return dir
}

/** The images upstream.sh --seed pushes, as [layout:tag, repository:tag, extra skopeo flags]. */
const SEED: Array<[string, string, string[]]> = [
  ['busybox:latest', 'library/busybox:latest', []],
  ['layered:latest', 'library/layered:latest', []],
  ['layered:v1', 'library/layered:v1', []],
  ['multiarch:latest', 'library/multiarch:latest', ['--all']],
  ['big:latest', 'library/big:latest', []],
  ['many:latest', 'library/many:latest', []],
  ['busybox:latest', 'private/busybox:latest', []],
  ['busybox:latest', 'library/busybox-v2s2:latest', ['--format', 'v2s2']],
]

function seed(dir: string, port: number, mode: AuthMode): void {
  const creds = mode === 'open' ? [] : ['--dest-creds', `${USER}:${PASSWORD}`]
  for (const [src, dst, extra] of SEED) {
    execFileSync(
      'skopeo',
      ['copy', '--quiet', '--dest-tls-verify=false', ...creds, ...extra,
        `oci:${join(dir, 'images', src)}`, `docker://127.0.0.1:${port}/${dst}`],
      { stdio: ['ignore', 'ignore', 'pipe'] }
    )
  }
}

function waitFor(url: string): void {
  for (let i = 0; i < 200; i++) {
    try {
      execFileSync('curl', ['-sf', '-o', '/dev/null', url], { stdio: 'ignore' })
      return
    } catch {
      execFileSync('sleep', ['0.1'])
    }
  }
  throw new Error(`${url} did not come up`)
}

function start(mode: AuthMode, bigMiB: number, port: number): Testbed {
  mkdirSync(ROOT, { recursive: true })
  const dir = mkdtempSync(join(tmpdir(), `edgepull-upstream-${mode}-`))
  symlinkSync(imagesDir(bigMiB), join(dir, 'images'))
  const script = join(TESTBED_DIR, 'upstream.sh')
  execFileSync('bash', [script, 'start', dir, String(port), mode], { stdio: ['ignore', 'ignore', 'pipe'] })
  // upstream.sh waits for the registry but not for its token server, and its --seed pushes
  // race the token server's start-up on a loaded machine; so wait for it, then seed here.
  if (mode === 'token') waitFor(`http://127.0.0.1:${port + 1}/stats`)
  seed(dir, port, mode)
  const stop = () => {
    try {
      execFileSync('bash', [join(TESTBED_DIR, 'upstream.sh'), 'stop', dir], { stdio: 'ignore' })
    } catch {}
    rmSync(dir, { recursive: true, force: true })
  }
  stoppers.push(stop)
  return { mode, port, url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, stop }
}

/** The seeded upstream for `mode`, shared by every test file in this process. */
export function testbed(mode: AuthMode = 'open', bigMiB = 64): Promise<Testbed> {
  const key = `${mode}/${bigMiB}`
  let tb = running.get(key)
  if (!tb) {
    tb = freePort(mode === 'token' ? 2 : 1).then((port) => start(mode, bigMiB, port))
    running.set(key, tb)
  }
  return tb
}
