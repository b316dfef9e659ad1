/**
 * The store verifier: one pass over the whole store through the driver interface (fs, memory
 * and R2 alike) that checks its invariants and reports each break (verify-report.ts):
 *
 * - every blob hashes to its digest (read as a stream: memory stays flat whatever the size);
 * - every image record, Engine tag and mirror link points at content that is there;
 * - no staging leftovers: `uploads/` copies and the driver's own temp files (Scratch).
 *
 * With `repair`, what is wrong is removed, so that the next request fetches it again: corrupt
 * blobs, then whatever points at a missing blob or image. Sound content is never removed,
 * which lets it run beside a live server: a reference to a blob absent from the blob pass is
 * checked again (it may have been written since), and image records and tags are removed
 * under the image store's lock, re-checked there.
 */
import { isDigest, Sha256Counter, type Digest } from '../oci/digest.ts'
import type { StorageDriver } from './driver.ts'
import { createImageStore, type ImageRecord, type ImageStore } from './images.ts'
import {
  BLOBS_PREFIX,
  blobKey,
  digestOfBlobKey,
  ENGINE_TAGS_PREFIX,
  engineTagKey,
  IMAGES_PREFIX,
  idOfImageKey,
  parseMirrorKey,
  refOfEngineTagKey,
  REPOSITORIES_PREFIX,
  UPLOADS_PREFIX,
} from './keys.ts'
import { exclusive } from './lock.ts'
import { readFully } from './streams.ts'
import type { Problem, ProblemKind, VerifyReport } from './verify-report.ts'

export interface VerifyOptions {
  /** Remove what is wrong (default: only report). */
  repair?: boolean
  /** The image store the server writes through, whose lock repairs take. */
  images?: ImageStore
  /** `uploads/` copies older than this are a crash's leftovers. Default 1 hour. */
  staleUploadMs?: number
  now?: () => number
  /** Hears each problem as it is found (the CLI prints them as they come). */
  onProblem?: (p: Problem) => void
}

/** A verifier bound to a server's store and image lock (what /admin/verify runs). */
export type StoreVerifier = (opts: { repair: boolean }) => Promise<VerifyReport>

/** Verifies (and with `repair`, repairs) the store behind `driver`. */
export async function verifyStore(driver: StorageDriver, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const v = new Verification(driver, opts)
  await v.blobs()
  await v.records()
  await v.tags()
  await v.mirror()
  await v.staging()
  return v.report()
}

const LINK_LIMIT = 4 << 20

class Verification {
  private readonly images: ImageStore
  private readonly repair: boolean
  private readonly sound = new Map<Digest, number>()
  private readonly corrupt = new Set<Digest>()
  private readonly referenced = new Set<Digest>()
  private readonly problems: Problem[] = []
  private readonly checked = { blobs: 0, bytes: 0, images: 0, tags: 0, mirrorKeys: 0 }

  constructor(
    private readonly driver: StorageDriver,
    private readonly opts: VerifyOptions
  ) {
    this.images = opts.images ?? createImageStore(driver)
    this.repair = opts.repair ?? false
  }

  /** Records a problem; when repairing, `remove` runs first and may find it gone (false). */
  private async found(kind: ProblemKind, key: string, detail: string, remove?: () => Promise<unknown>) {
    let repaired = false
    if (this.repair && remove) {
      if ((await remove()) === false) return
      repaired = true
    }
    const p = { kind, key, detail, repaired }
    this.problems.push(p)
    this.opts.onProblem?.(p)
  }

  private readonly locked = (job: () => Promise<boolean>) => () => exclusive(this.images, job)

  /** Whether a blob is there and sound: seen so in the blob pass, or written since. */
  private async present(d: Digest): Promise<boolean> {
    if (this.sound.has(d)) return true
    return !this.corrupt.has(d) && (await this.driver.stat(blobKey(d))) !== null
  }

  async blobs(): Promise<void> {
    for await (const key of this.driver.list(BLOBS_PREFIX)) {
      const digest = digestOfBlobKey(key)
      if (!digest) {
        await this.found('stray-key', key, 'not a blob key')
        continue
      }
      // Read twice before calling it unreadable: a put may have replaced it mid-read.
      const hashed = await this.hash(key)
        .catch(() => this.hash(key))
        .catch((err: Error) => err)
      if (!hashed) continue // removed since it was listed
      if (hashed instanceof Error) {
        this.corrupt.add(digest)
        const remove = () => this.driver.delete(key)
        await this.found('corrupt-blob', key, `unreadable: ${hashed.message}`, remove)
        continue
      }
      this.checked.blobs++
      this.checked.bytes += hashed.size
      const actual = hashed.digest()
      if (actual === digest) {
        this.sound.set(digest, hashed.size)
        continue
      }
      this.corrupt.add(digest)
      const detail = `${hashed.size} bytes that hash to ${actual}`
      await this.found('corrupt-blob', key, detail, () => this.driver.delete(key))
    }
  }

  private async hash(key: string): Promise<Sha256Counter | null> {
    const o = await this.driver.get(key)
    if (!o) return null
    const h = new Sha256Counter()
    for await (const chunk of o.body) h.update(chunk)
    return h
  }

  async records(): Promise<void> {
    for await (const key of this.driver.list(IMAGES_PREFIX)) {
      const id = idOfImageKey(key)
      if (!id) {
        await this.found('stray-key', key, 'not an image record key')
        continue
      }
      const rec = await this.images.getImage(id).catch((err: Error) => err)
      if (rec === null) continue
      const needs = rec instanceof Error ? null : blobsOf(rec)
      if (!needs) {
        const detail = rec instanceof Error ? rec.message : 'not an image record'
        await this.found('bad-record', key, detail, this.locked(() => this.driver.delete(key)))
        continue
      }
      this.checked.images++
      for (const d of needs) this.referenced.add(d)
      const missing = await this.missing(needs)
      if (!missing.length) continue
      const detail = `missing ${missing.join(', ')}`
      const drop = async () => (await this.missing(needs)).length > 0 && this.images.deleteImage(id)
      await this.found('dangling-image', key, detail, this.locked(drop))
    }
  }

  private async missing(ds: Digest[]): Promise<Digest[]> {
    const out: Digest[] = []
    for (const d of ds) if (!(await this.present(d))) out.push(d)
    return out
  }

  async tags(): Promise<void> {
    for await (const key of this.driver.list(ENGINE_TAGS_PREFIX)) {
      const ref = refOfEngineTagKey(key)
      if (ref === null || tagKeyOf(ref) !== key) {
        await this.found('stray-key', key, 'not an Engine tag key')
        continue
      }
      const id = await this.images.getTag(ref).catch((err: Error) => err)
      if (id instanceof Error) {
        await this.found('bad-record', key, id.message, this.locked(() => this.driver.delete(key)))
        continue
      }
      if (!id) continue
      this.checked.tags++
      // A tag of a damaged record is fine by itself (the record is reported); of none, not.
      const gone = async () => (await this.images.getImage(id).catch(() => 'damaged')) === null
      if (!(await gone())) continue
      const drop = async () => (await this.images.getTag(ref)) === id && (await gone()) && this.images.deleteTag(ref)
      await this.found('dangling-tag', key, `${ref} names image ${id}, which is not there`, this.locked(drop))
    }
  }

  async mirror(): Promise<void> {
    for await (const key of this.driver.list(REPOSITORIES_PREFIX)) {
      const m = parseMirrorKey(key)
      if (!m) {
        await this.found('stray-key', key, 'not a mirror key')
        continue
      }
      this.checked.mirrorKeys++
      const json = m.kind === 'layer' ? {} : await this.readObject(key)
      if (json === undefined) continue // removed since it was listed
      const digest = m.kind === 'tag' ? json?.digest : m.kind === 'access' ? undefined : m.digest
      const bad = !json || (m.kind === 'tag' && !(typeof digest === 'string' && isDigest(digest)))
      if (bad) {
        await this.found('bad-record', key, 'not a mirror link', () => this.driver.delete(key))
        continue
      }
      if (typeof digest !== 'string') continue
      const d = digest as Digest
      this.referenced.add(d)
      if (await this.present(d)) continue
      const drop = async () => !(await this.present(d)) && this.driver.delete(key)
      await this.found('dangling-link', key, `blob ${d} is not there`, drop)
    }
  }

  // A small JSON object; null when the key holds anything else, undefined when it is gone.
  private async readObject(key: string): Promise<Record<string, unknown> | null | undefined> {
    const o = await this.driver.get(key)
    if (!o) return undefined
    try {
      const v: unknown = JSON.parse(new TextDecoder().decode(await readFully(o.body, LINK_LIMIT, key)))
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null
    } catch {
      return null
    }
  }

  async staging(): Promise<void> {
    const cutoff = (this.opts.now ?? Date.now)() - (this.opts.staleUploadMs ?? 3600_000)
    for await (const key of this.driver.list(UPLOADS_PREFIX)) {
      const info = await this.driver.stat(key)
      if (!info || info.modified >= cutoff) continue // gone, or an import copying it now
      const detail = `${info.size} bytes, written ${new Date(info.modified).toISOString()}`
      await this.found('stray-upload', key, detail, () => this.driver.delete(key))
    }
    const scratch = this.driver.scratch
    if (!scratch) return
    for await (const s of scratch.strays()) {
      const detail = `${s.size} bytes, written ${new Date(s.modified).toISOString()}`
      await this.found('stray-temp', s.name, detail, () => scratch.remove(s.name))
    }
  }

  report(): VerifyReport {
    let blobs = 0
    let bytes = 0
    for (const [d, size] of this.sound) {
      if (this.referenced.has(d)) continue
      blobs++
      bytes += size
    }
    const clean = this.problems.every((p) => p.repaired)
    return {
      driver: this.driver.name,
      repair: this.repair,
      checked: this.checked,
      unreferenced: { blobs, bytes },
      problems: this.problems,
      clean,
    }
  }
}

// The blobs an image record needs; null when the record is not shaped like one.
function blobsOf(rec: ImageRecord): Digest[] | null {
  const layers = Array.isArray(rec.layers) ? rec.layers.map((l) => l?.digest) : null
  if (!layers) return null
  const all = [rec.id, rec.manifest?.digest, ...(rec.index ? [rec.index.digest] : []), ...layers]
  return all.every((d) => typeof d === 'string' && isDigest(d)) ? (all as Digest[]) : null
}

const tagKeyOf = (ref: string): string | null => {
  try {
    return engineTagKey(ref)
  } catch {
    return null
  }
}
