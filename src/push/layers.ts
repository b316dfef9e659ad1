/**
 * Blob pushes as dockerd's pusher does them: skip what the repository has (`Layer already
 * exists`), mount what another repository on the same registry has (`Mounted from …`), upload
 * the rest, at most five at a time (`Waiting` beyond that), layers named by their DiffID.
 */
import type { Digest } from '../oci/digest.ts'
import { progressThrottle } from '../pull/throttle.ts'
import type { RepositoryClient } from '../registry/client.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { LayerRecord } from '../storage/images.ts'
import { ImageError } from '../images/errors.ts'
import type { PushEvent } from './events.ts'

/** dockerd's max-concurrent-uploads default. */
export const MAX_CONCURRENT_UPLOADS = 5
/** dockerd tries at most this many repositories to mount a blob from. */
const MAX_MOUNT_ATTEMPTS = 3

/** What pushing one blob needs. */
export interface BlobPush {
  repo: RepositoryClient
  blobs: BlobStore
  /** Repository paths on the target registry known to hold each blob. */
  mountSources: (digest: Digest) => string[]
  chunkSize?: number
  signal?: AbortSignal
}

/** How a blob got there. */
export type BlobOutcome =
  | { status: 'exists' }
  | { status: 'mounted'; from: string }
  | { status: 'pushed' }

/** Pushes one blob unless the repository has it; `onProgress` sees uploaded bytes. */
export async function pushBlob(
  p: BlobPush,
  blob: { digest: Digest; size: number },
  onProgress?: (sent: number) => void
): Promise<BlobOutcome> {
  const { repo, signal } = p
  if (await repo.hasBlob(blob.digest, signal)) return { status: 'exists' }
  let location: string | undefined
  for (const from of p.mountSources(blob.digest).slice(0, MAX_MOUNT_ATTEMPTS)) {
    const r = await repo.mountBlob(blob.digest, from, signal).catch(() => undefined)
    if (r?.mounted) return { status: 'mounted', from }
    location = r?.location ?? location
  }
  const open = async () => {
    const stored = await p.blobs.get(blob.digest)
    if (!stored) throw new ImageError(500, `blob ${blob.digest} is missing from the local store`)
    return stored.body
  }
  onProgress?.(0)
  const opts = { location, onProgress, chunkSize: p.chunkSize, signal }
  await repo.uploadBlob(blob.digest, blob.size, open, opts)
  return { status: 'pushed' }
}

/** Pushes an image's layers with Docker's per-layer messages. */
export async function pushLayers(
  p: BlobPush,
  layers: readonly LayerRecord[],
  emit: (e: PushEvent) => void
): Promise<void> {
  const top = [...layers].reverse() // dockerd lists and starts them from the top
  for (const l of top) emit({ type: 'layer', diffId: l.diffId, status: 'preparing' })
  for (const l of top.slice(MAX_CONCURRENT_UPLOADS)) {
    emit({ type: 'layer', diffId: l.diffId, status: 'waiting' })
  }
  const shared = new Map<Digest, Promise<BlobOutcome>>()
  await forEachLimited(top, MAX_CONCURRENT_UPLOADS, p.signal, async (l, signal) => {
    const due = progressThrottle(l.size)
    const report = (current: number) => {
      if (current === 0 || due(current)) {
        emit({ type: 'layer', diffId: l.diffId, status: 'pushing', current, total: l.size })
      }
    }
    let outcome = shared.get(l.digest)
    if (!outcome) {
      outcome = pushBlob({ ...p, signal }, l, report)
      shared.set(l.digest, outcome)
    }
    const o = await outcome
    const from = o.status === 'mounted' ? o.from : undefined
    emit({ type: 'layer', diffId: l.diffId, status: o.status, ...(from ? { from } : {}) })
  })
}

/** Runs `fn` over `items`, at most `limit` at once; the first failure cancels the rest. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal | undefined,
  fn: (item: T, signal: AbortSignal) => Promise<void>
): Promise<void> {
  const local = new AbortController()
  const combined = signal ? AbortSignal.any([signal, local.signal]) : local.signal
  let next = 0
  let failure: { err: unknown } | undefined
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next++]!
      try {
        combined.throwIfAborted()
        await fn(item, combined)
      } catch (err) {
        failure ??= { err }
        local.abort(err)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failure) throw failure.err
}
