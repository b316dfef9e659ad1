/**
 * The fs driver's staging area, `<root>/.tmp/`, and who may clear what in it. Each process
 * writes its temp files in a directory of its own (shared by its drivers), `.tmp/<owner>/`,
 * named `<host>~<pid namespace>~<pid>~<random>`, and touches that directory every quarter of
 * `staleMs` while it lives (a heartbeat). Another process's directory is a leftover when
 *
 * - its process is certainly dead: same host and pid namespace as ours, and its pid is not
 *   running or is our own (reused after a restart). This is what clears the temp files of a
 *   killed process as soon as the store is opened again;
 * - or its heartbeat is older than `staleMs`. Processes on other hosts (a shared network file
 *   system) or in other pid namespaces (containers over one volume, a container restarted)
 *   cannot be asked, so the clock decides: their leftovers go within 1¼ × staleMs.
 *
 * So two live instances over one directory never remove each other's temp files, as long as
 * their clocks agree within staleMs and instances on different machines have different host
 * names. Loose files directly in `.tmp/` (the layout before owner directories) go once
 * untouched for staleMs. Leftovers are removed at start and at every heartbeat.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, readdir, readlink, rm, stat, utimes } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { kill, pid } from 'node:process'
import { setInterval } from 'node:timers'
import type { Scratch, ScratchEntry } from './driver.ts'

/** Who this process is, as owner directory names spell it. */
interface Self {
  host: string
  pidns: string
  pid: number
}

/** The temp area of one driver instance. */
export interface TempArea extends Scratch {
  /** A fresh temp file path in this instance's own directory (created on first use). */
  path(): Promise<string>
  /** After an ENOENT on a temp path: the directory was removed, make it again next time. */
  lost(): void
}

const SEP = '~'
// Every driver of this process shares one directory: a name with our pid and another tag is
// a previous process's, whose pid we were given again.
const PROCESS_TAG = randomUUID().slice(0, 8)

/** Opens the temp area under `tmpDir`; with `tidy`, removes leftovers now and periodically. */
export async function openTempArea(tmpDir: string, staleMs: number, tidy: boolean): Promise<TempArea> {
  const self = await whoAmI()
  const own = ownerName(self, self.pid) + PROCESS_TAG
  const ownDir = join(tmpDir, own)
  let made: Promise<unknown> | undefined
  await mkdir(tmpDir, { recursive: true })

  async function* strays(): AsyncGenerator<ScratchEntry> {
    const cutoff = Date.now() - staleMs
    for (const name of await readdir(tmpDir)) {
      if (name === own) continue
      const st = await stat(join(tmpDir, name)).catch(() => null)
      if (!st) continue
      const dead = st.isDirectory() && isDead(name, self)
      if (dead || st.mtimeMs < cutoff) {
        yield { name, size: await sizeOf(join(tmpDir, name)), modified: Math.floor(st.mtimeMs) }
      }
    }
  }
  const remove = (name: string) => rm(join(tmpDir, name), { recursive: true, force: true })
  const sweep = async () => {
    for await (const s of strays()) await remove(s.name)
  }

  if (tidy) await sweep()
  const beat = setInterval(() => {
    const now = new Date()
    void utimes(ownDir, now, now).catch(() => {}) // not made yet, or removed: nothing to keep
    if (tidy) void sweep().catch(() => {})
  }, Math.max(1000, staleMs / 4))
  beat.unref()

  return {
    strays,
    remove,
    async path() {
      made ??= mkdir(ownDir, { recursive: true })
      await made
      return join(ownDir, randomUUID())
    },
    lost() {
      made = undefined
    },
  }
}

/** `<host>~<pidns>~<pid>~`: how process `of` on this host begins its directories' names. */
export const ownerPrefix = async (of: number): Promise<string> => ownerName(await whoAmI(), of)

const ownerName = (self: Self, of: number): string => [self.host, self.pidns, of, ''].join(SEP)

// `host ~ ns ~ pid` in the names of this host's pid namespace: a pid that is not running, or
// that is ours while the directory is not, is a dead writer's.
function isDead(name: string, self: Self): boolean {
  const [host, pidns, pidText] = name.split(SEP)
  if (host !== self.host || pidns !== self.pidns || self.pidns === '') return false
  const other = Number(pidText)
  if (!Number.isSafeInteger(other) || other <= 0) return false
  if (other === self.pid) return true
  try {
    kill(other, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH' // EPERM: alive, someone else's
  }
}

// The host name and pid namespace; either may be unknowable (Deno without --allow-sys reads
// no host name, non-Linux systems have no /proc): an empty namespace turns pid checks off.
async function whoAmI(): Promise<Self> {
  let host = 'host'
  try {
    host = hostname().replace(/[^A-Za-z0-9.-]/g, '_') || host
  } catch {}
  const link = await readlink('/proc/self/ns/pid').catch(() => '')
  const pidns = /\[(\d+)\]/.exec(link)?.[1] ?? ''
  return { host, pidns, pid }
}

async function sizeOf(path: string): Promise<number> {
  const st = await stat(path).catch(() => null)
  if (!st?.isDirectory()) return st?.size ?? 0
  let total = 0
  for (const name of await readdir(path).catch(() => [])) total += await sizeOf(join(path, name))
  return total
}
