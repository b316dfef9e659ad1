/**
 * Process and temp-dir bookkeeping for the benchmark: every child and directory it creates is
 * registered here and removed on exit (normal, error or Ctrl-C), and every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const children = new Set<ChildProcess>()
const dirs = new Set<string>()
const cleanups: Array<() => void> = []

/** Stops every child still running and removes every temp dir (idempotent). */
export function cleanupAll(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  children.clear()
  for (const f of cleanups.splice(0).reverse()) {
    try {
      f()
    } catch {}
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs.clear()
}
process.once('exit', cleanupAll)
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    cleanupAll()
    process.exit(130)
  })
}

/** Runs `f` at exit (after the children are killed): for processes started by scripts. */
export function atExit(f: () => void): void {
  cleanups.push(f)
}

/** A temp directory removed at exit, or earlier through `removeDir`. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `edgepull-bench-${prefix}-`))
  dirs.add(d)
  return d
}

/** Removes a directory made by `tempDir` now. */
export function removeDir(d: string): void {
  rmSync(d, { recursive: true, force: true })
  dirs.delete(d)
}

/** A child process, tracked; its output is kept (last 64 KiB) for error messages. */
export interface Child {
  readonly pid: number
  readonly proc: ChildProcess
  output(): string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>
}

/** Spawns `cmd` with `env` added to ours, stdout and stderr captured. */
export function start(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  cwd?: string
): Child {
  const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe']
  const proc = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio })
  children.add(proc)
  let out = ''
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-65536)
  }
  proc.stdout!.on('data', keep)
  proc.stderr!.on('data', keep)
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  return {
    pid: proc.pid!,
    proc,
    output: () => out,
    async stop(graceMs = 3000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM')
        const t = setTimeout(() => proc.kill('SIGKILL'), graceMs)
        await exited
        clearTimeout(t)
      }
      children.delete(proc)
    },
  }
}

/** Runs a command to its end within `timeoutMs`; rejects on a non-zero exit. */
export async function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
  env: Record<string, string> = {}
): Promise<{ stdout: string; stderr: string }> {
  const c = start(cmd, args, env)
  let stdout = ''
  let stderr = ''
  c.proc.stdout!.on('data', (d) => (stdout += d))
  c.proc.stderr!.on('data', (d) => (stderr += d))
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<number | null>((r) => c.proc.once('close', (n) => r(n)))
  clearTimeout(timer)
  children.delete(c.proc)
  if (code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${code ?? 'on timeout'}: ${stderr.slice(-500)}`)
  }
  return { stdout, stderr }
}

/** Peak resident set of a live process (the kernel's high-water mark), MiB; 0 once gone. */
export function peakRssMiB(pid: number): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return Number(kb ?? 0) / 1024
  } catch {
    return 0
  }
}

/** Polls `url` until it answers (any status below 500) or `timeoutMs` passes. */
export async function waitHttp(url: string, timeoutMs = 30_000, alive?: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (alive && !alive()) throw new Error(`process serving ${url} exited`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
      await res.body?.cancel()
      if (res.status < 500) return
    } catch {}
    await Bun.sleep(50)
  }
  throw new Error(`${url} did not come up within ${timeoutMs} ms`)
}

/** Waits until `cond()` holds, polling; false after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (cond()) return true
    await Bun.sleep(everyMs)
  }
  return cond()
}
