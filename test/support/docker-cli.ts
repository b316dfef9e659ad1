/** Runs the real docker CLI against an edgepull server, with its own config dir. */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * A DOCKER_CONFIG dir; `auths` maps registry hosts to `user:password`; `httpHeaders` go with
 * every request to the daemon (config.json's `HttpHeaders`, e.g. edgepull's write token).
 */
export function dockerConfig(
  auths: Record<string, string> = {},
  httpHeaders?: Record<string, string>
): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgepull-docker-config-'))
  const entries = Object.fromEntries(
    Object.entries(auths).map(([host, up]) => [host, { auth: Buffer.from(up).toString('base64') }])
  )
  const headers = httpHeaders ? { HttpHeaders: httpHeaders } : {}
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: entries, ...headers }))
  return dir
}

export async function docker(host: string, args: string[], configDir = dockerConfig()): Promise<CliResult> {
  const proc = Bun.spawn(['docker', ...args], {
    // stdin closed: a 401 makes the CLI prompt for a login, which must fail, not hang.
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, DOCKER_HOST: `tcp://${host}`, DOCKER_CONFIG: configDir, DOCKER_CLI_HINTS: 'false' },
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { code, stdout, stderr }
}
