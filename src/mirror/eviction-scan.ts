/**
 * The store as an eviction run needs it: every blob's size and write time, the mirror's links
 * by kind, what each mirror manifest refers to, and the blobs Engine API image records pin.
 * A digest names fixed content, so a blob is stat'ed and a manifest parsed once per process;
 * later runs only list keys and look at what is new.
 */
import { blobsOf } from '../images/release.ts'
import { isDigest, type Digest } from '../oci/digest.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { StorageDriver } from '../storage/driver.ts'
import type { ImageStore } from '../storage/images.ts'
import { parseMirrorKey, REPOSITORIES_PREFIX } from '../storage/keys.ts'
import { readFully } from '../storage/streams.ts'

/** A stored blob: size and last write time (ms). */
export interface BlobEntry {
  size: number
  modified: number
}

/** One scan's findings. */
export interface StoreSnapshot {
  blobs: Map<Digest, BlobEntry>
  /** Revision keys per manifest digest, across repositories. */
  revisions: Map<Digest, string[]>
  /** Tag keys per repository (its key prefix). */
  tags: Map<string, string[]>
  /** Layer link keys per blob digest. */
  layers: Map<Digest, string[]>
}

const MAX_MANIFEST = 4 * 1024 * 1024

/** Scans one store, remembering sizes and manifest references between scans. */
export class StoreScanner {
  private readonly sizes = new Map<Digest, BlobEntry>()
  private readonly refs = new Map<Digest, { children: Digest[]; manifests: Digest[] }>()

  constructor(
    private readonly driver: StorageDriver,
    private readonly blobs: BlobStore,
    private readonly images: ImageStore
  ) {}

  /** What a scanned manifest refers to ([] for other blobs and unscanned digests). */
  children = (d: Digest): readonly Digest[] => this.refs.get(d)?.children ?? []

  /** Lists the store; stats only blobs not seen before, parses only new manifests. */
  async scan(): Promise<StoreSnapshot> {
    const snap: StoreSnapshot = {
      blobs: new Map(),
      revisions: new Map(),
      tags: new Map(),
      layers: new Map(),
    }
    for await (const d of this.blobs.list()) {
      let entry = this.sizes.get(d)
      if (!entry) {
        const info = await this.blobs.stat(d)
        if (!info) continue // deleted since it was listed
        entry = { size: info.size, modified: info.modified }
        this.sizes.set(d, entry)
      }
      snap.blobs.set(d, entry)
    }
    for (const d of this.sizes.keys()) if (!snap.blobs.has(d)) this.sizes.delete(d)
    for await (const key of this.driver.list(REPOSITORIES_PREFIX)) {
      const k = parseMirrorKey(key)
      if (k?.kind === 'revision') push(snap.revisions, k.digest, key)
      else if (k?.kind === 'layer') push(snap.layers, k.digest, key)
      else if (k?.kind === 'tag') push(snap.tags, k.repository, key)
    }
    const seen = new Set<Digest>()
    for (const d of snap.revisions.keys()) await this.parse(d, snap.blobs, seen)
    return snap
  }

  /** The blobs Engine API image records hold (read under the store lock: records change). */
  async pins(): Promise<Set<Digest>> {
    const pinned = new Set<Digest>()
    for await (const rec of this.images.listImages()) {
      for (const d of blobsOf(rec)) pinned.add(d)
    }
    return pinned
  }

  /** Forgets a deleted blob. */
  forget(d: Digest): void {
    this.sizes.delete(d)
    this.refs.delete(d)
  }

  /** Reads what manifest `d` refers to, and so on down an index's manifests. */
  private async parse(d: Digest, stored: Map<Digest, BlobEntry>, seen: Set<Digest>): Promise<void> {
    if (seen.has(d) || !stored.has(d)) return
    seen.add(d)
    let refs = this.refs.get(d)
    if (!refs) {
      let json: unknown
      try {
        const bytes = (await this.blobs.bytes(d, MAX_MANIFEST)) ?? new Uint8Array()
        json = JSON.parse(new TextDecoder().decode(bytes))
      } catch {
        json = undefined // not a manifest after all, or damaged: it holds nothing
      }
      refs = references(json)
      this.refs.set(d, refs)
    }
    // An index's manifests may have arrived since it was parsed: look at them every time.
    for (const m of refs.manifests) await this.parse(m, stored, seen)
  }
}

/** The digest a tag link points at; null when it is gone or damaged. */
export async function tagDigest(driver: StorageDriver, key: string): Promise<Digest | null> {
  const o = await driver.get(key)
  if (!o) return null
  try {
    const j = JSON.parse(new TextDecoder().decode(await readFully(o.body, 64 * 1024, key)))
    return typeof j?.digest === 'string' && isDigest(j.digest) ? j.digest : null
  } catch {
    return null
  }
}

/** Descriptors of a manifest or index: all of them, and those that are manifests. */
function references(json: unknown): { children: Digest[]; manifests: Digest[] } {
  const children: Digest[] = []
  const manifests: Digest[] = []
  if (!json || typeof json !== 'object') return { children, manifests }
  const m = json as Record<string, unknown>
  const digestOf = (desc: unknown): Digest | null => {
    const d = (desc as { digest?: unknown } | null)?.digest
    return typeof d === 'string' && isDigest(d) ? d : null
  }
  const config = digestOf(m.config)
  if (config) children.push(config)
  for (const field of ['layers', 'blobs', 'manifests'] as const) {
    const list = m[field]
    if (!Array.isArray(list)) continue
    for (const desc of list) {
      const d = digestOf(desc)
      if (!d) continue
      children.push(d)
      if (field === 'manifests') manifests.push(d)
    }
  }
  return { children, manifests }
}

function push<K>(map: Map<K, string[]>, key: K, value: string): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}
