/**
 * POST /images/prune, as moby's graphdriver ImagesPrune does it: one prune at a time (409
 * otherwise), only `dangling` (default true), `until`, `label` and `label!`; images with a
 * tag survive a dangling prune; each image goes through the ordinary delete, conflicts
 * skipped. SpaceReclaimed is the bytes of blobs actually removed, which is what an edge
 * store frees (Docker adds up released layers' unpacked sizes).
 */
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageStore } from '../storage/images.ts'
import { createdOf, labelsOf, loadConfig } from './config.ts'
import { deleteImageLocked, type DeleteItem } from './delete.ts'
import { ImageError } from './errors.ts'
import type { FilterArgs } from './filters.ts'
import { exclusive } from '../storage/lock.ts'
import { allImages, referencesByImage } from './references.ts'
import { parseTimestamp } from './timestamp.ts'

/** The filters POST /images/prune accepts. */
export const PRUNE_FILTERS = ['dangling', 'label', 'label!', 'until'] as const

/** ImagePruneResponse. */
export interface PruneReport {
  ImagesDeleted: DeleteItem[] | null
  SpaceReclaimed: number
}

const running = new WeakSet<object>()

/** Prunes unused images; throws ImageError 409 while another prune runs on the same store. */
export async function pruneImages(
  deps: { images: ImageStore; blobs: BlobStore },
  filters: FilterArgs
): Promise<PruneReport> {
  // Checked and set before the first await, so a second request cannot slip in between.
  if (running.has(deps.images)) throw new ImageError(409, 'a prune operation is already running')
  running.add(deps.images)
  try {
    filters.validate(PRUNE_FILTERS)
    const danglingOnly = filters.boolOrDefault('dangling', true)
    const until = untilOf(filters)
    return await exclusive(deps.images, () => prune(deps, filters, danglingOnly, until))
  } finally {
    running.delete(deps.images)
  }
}

async function prune(
  deps: { images: ImageStore; blobs: BlobStore },
  filters: FilterArgs,
  danglingOnly: boolean,
  until: bigint | undefined
): Promise<PruneReport> {
  const records = await allImages(deps.images)
  const refsById = await referencesByImage(deps.images, records)
  const deleted: DeleteItem[] = []
  let reclaimed = 0
  for (const rec of records) {
    const config = await loadConfig(deps.blobs, rec.id)
    if (!config) continue
    const created = createdOf(config)?.ns
    if (until !== undefined && (created === undefined || created > until)) continue
    if (config.config && !matchLabels(filters, labelsOf(config))) continue
    const refs = refsById.get(rec.id) ?? []
    if (danglingOnly && refs.some((r) => r.tagged)) continue
    // Deleting by each reference in turn untags first; by ID when there is none.
    const names = refs.length > 0 ? refs.map((r) => r.canonical) : [rec.id.slice('sha256:'.length)]
    for (const name of names) {
      try {
        const { items, freed } = await deleteImageLocked(deps, name)
        deleted.push(...items)
        reclaimed += freed
      } catch (err) {
        // Skipped, as in moby: conflicts, and references already gone with an earlier one.
        if (!(err instanceof ImageError)) console.warn(`failed to prune image ${name}:`, err)
      }
    }
  }
  return { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed }
}

/** `until`: at most one, a 400 when unparseable. */
function untilOf(filters: FilterArgs): bigint | undefined {
  const values = filters.get('until')
  if (!filters.has('until')) return undefined
  if (values.length > 1) throw new ImageError(400, 'more than one until filter specified')
  try {
    return parseTimestamp(values[0] ?? '')
  } catch (err) {
    throw new ImageError(400, (err as Error).message)
  }
}

/** Every `label` matches and, when `label!` is given, not all of those do. */
function matchLabels(filters: FilterArgs, labels: Record<string, string> | null): boolean {
  if (!filters.matchKVList('label', labels)) return false
  return !(filters.has('label!') && filters.matchKVList('label!', labels))
}
