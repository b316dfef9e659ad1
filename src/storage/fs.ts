/**
 * The file-system driver (Node, Bun, Deno). A key is a path under `root`; a put streams into
 * a temp file under `root/.tmp/` while it is verified, is synced, then renamed over the key:
 * readers see the old file or the new one, never a partial one, and a process killed
 * mid-put leaves only its temp file, which fs-temps.ts clears. `.tmp` sits outside the key
 * space (key segments never start with `.`). Directories emptied by delete are left in place: pruning
 * them would race with a put that has just created them. The temp file is readable while it is
 * written (`partialReads`), which is how a mirror fill is read before it commits.
 */
import type { Stats } from 'node:fs'
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import type { ObjectInfo, StorageDriver } from './driver.ts'
import { StorageError } from './driver.ts'
import { checkKey, checkPrefix } from './keys.ts'
import { fileStream, io, isMissing, message, openSmall, tempReader, writeChunks, type TempReader } from './fs-file.ts'
import { openTempArea } from './fs-temps.ts'
import { checkRange, discard, rangeStream, verifiedChunks } from './streams.ts'

/** Options for createFsDriver. */
export interface FsDriverOptions {
  /**
   * Temp files of another instance whose heartbeat is this old are a crash's leftovers (see
   * fs-temps.ts; a dead process on this host is recognised at once). Default 10 min.
   */
  readonly staleTempMs?: number
  /**
   * Remove leftover temp files at start and periodically (default true). The verifier opens
   * the store without, so that it reports them rather than clearing them unseen.
   */
  readonly tidy?: boolean
  /**
   * Bytes per read of a stored object (default 1 MiB). Node served a warm GiB in 0.55–0.62 s
   * with 2 MiB against 0.50–0.71 s with 1 MiB; Bun's peak RSS rose 10–25 MiB with 2 MiB.
   */
  readonly readChunk?: number
}

const TMP = '.tmp'
/** Files up to this size are read whole when opened (see openSmall); larger ones stream. */
const SMALL_FILE = 256 * 1024

/** Opens (creating if needed) a store rooted at `root` and clears stale temp files. */
export async function createFsDriver(
  root: string,
  { staleTempMs = 10 * 60_000, readChunk, tidy = true }: FsDriverOptions = {}
): Promise<StorageDriver> {
  const base = resolve(root)
  const temps = await openTempArea(join(base, TMP), staleTempMs, tidy)

  const pathOf = (key: string): string => {
    const path = join(base, ...checkKey(key).split('/'))
    if (!path.startsWith(base + sep)) throw new StorageError(`key escapes root: ${key}`)
    return path
  }
  const infoOf = (key: string, st: Stats): ObjectInfo => ({
    key,
    size: st.size,
    modified: Math.floor(st.mtimeMs),
  })

  async function statFile(path: string): Promise<Stats | null> {
    try {
      const st = await stat(path)
      return st.isFile() ? st : null
    } catch (err) {
      if (isMissing(err)) return null
      throw new StorageError(`fs: stat ${path}: ${message(err)}`, { cause: err })
    }
  }

  // A temp file in this instance's directory. That directory may have been removed under us
  // (another instance took us for dead after a long suspension): then it is made again.
  async function createTemp(): Promise<{ tmp: string; fh: FileHandle }> {
    for (let attempt = 1; ; attempt++) {
      const tmp = await io('mkdir', 'temp directory', temps.path())
      try {
        return { tmp, fh: await open(tmp, 'wx') }
      } catch (err) {
        if (attempt > 1 || !isMissing(err)) throw new StorageError(`fs: create ${tmp}: ${message(err)}`, { cause: err })
        temps.lost()
      }
    }
  }

  async function* walk(dirKey: string, partial: string): AsyncGenerator<string> {
    let entries
    try {
      entries = await readdir(dirKey ? pathOf(dirKey.slice(0, -1)) : base, { withFileTypes: true })
    } catch (err) {
      if (isMissing(err)) return // deleted meanwhile, or never there
      throw new StorageError(`fs: list ${dirKey}: ${message(err)}`, { cause: err })
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || !e.name.startsWith(partial)) continue
      if (e.isDirectory()) yield* walk(`${dirKey}${e.name}/`, '')
      else if (e.isFile()) yield dirKey + e.name
    }
  }

  return {
    name: 'fs',
    partialReads: true,
    scratch: temps,

    async stat(key) {
      const st = await statFile(pathOf(key))
      return st && infoOf(key, st)
    },

    async get(key, range) {
      const path = pathOf(key)
      const found = await openSmall(path, SMALL_FILE)
      if (!found) return null
      const { st, bytes } = found
      const r = checkRange(range, st.size, key)
      const body = bytes ? rangeStream(bytes, r) : fileStream(path, st, r.offset, r.length, readChunk)
      return { info: infoOf(key, st), range: r, body }
    },

    async put(key, body, opts) {
      let tmp: string | undefined
      let fh: FileHandle | undefined
      let reader: TempReader | undefined
      try {
        const path = pathOf(key)
        ;({ tmp, fh } = await createTemp())
        reader = tempReader(tmp)
        const read = reader.read
        const onWritten = opts?.onWritten
        await writeChunks(fh, verifiedChunks(body, opts), onWritten && ((n) => onWritten(n, read)))
        opts?.onVerified?.()
        await io('sync', tmp, fh.datasync())
        const st = await io('stat', tmp, fh.stat())
        await io('close', tmp, fh.close())
        fh = undefined
        await io('mkdir', key, mkdir(dirname(path), { recursive: true }))
        await io('rename', key, rename(tmp, path))
        return infoOf(key, st)
      } catch (err) {
        discard(body, err)
        await fh?.close().catch(() => {})
        if (tmp) await rm(tmp, { force: true }).catch(() => {})
        throw err
      } finally {
        await reader?.close()
      }
    },

    async delete(key) {
      const path = pathOf(key)
      try {
        await unlink(path)
        return true
      } catch (err) {
        if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') return false
        throw new StorageError(`fs: delete ${key}: ${message(err)}`, { cause: err })
      }
    },

    list(prefix) {
      checkPrefix(prefix)
      const cut = prefix.lastIndexOf('/') + 1
      return walk(prefix.slice(0, cut), prefix.slice(cut))
    },
  }
}

