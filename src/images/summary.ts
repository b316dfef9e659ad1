/**
 * GET /images/json, as moby's graphdriver Images() builds it: filters first (before, until,
 * since, label), then references (narrowed by `reference` globs), then the dangling rules,
 * newest first. Version-dependent shaping is the route's business, as it is moby's router's.
 * Every image here is a pulled one with no parent and no children, so `all` changes nothing.
 */
import type { Digest } from '../oci/digest.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageRecord, ImageStore } from '../storage/images.ts'
import { createdOf, labelsOf, loadConfig, type ConfigJson } from './config.ts'
import { ImageError } from './errors.ts'
import type { FilterArgs } from './filters.ts'
import { BadPatternError, pathMatch } from './glob.ts'
import { allImages, referencesByImage, type ImageRef } from './references.ts'
import { resolveImage } from './resolve.ts'
import { unixSeconds } from './time.ts'
import { parseTimestamp } from './timestamp.ts'

/** The filters GET /images/json accepts. */
export const LIST_FILTERS = ['dangling', 'label', 'before', 'since', 'reference', 'until'] as const

/** What GET /images/json passes on. */
export interface ListOptions {
  filters: FilterArgs
  /** Compute SharedSize (API ≥ 1.42). */
  sharedSize?: boolean
}

/** ImageSummary as the service builds it; null lists are Go's nil slices. */
export interface Summary {
  Containers: number
  Created: number
  Id: Digest
  Labels: Record<string, string> | null
  ParentId: string
  RepoDigests: string[] | null
  RepoTags: string[] | null
  SharedSize: number
  Size: number
}

/** Lists images; throws ImageError for bad filters and unknown `before`/`since` images. */
export async function listImages(
  deps: { images: ImageStore; blobs: BlobStore },
  opts: ListOptions
): Promise<Summary[]> {
  const { filters } = opts
  filters.validate(LIST_FILTERS)
  const danglingOnly = filters.boolOrDefault('dangling', false)
  const { before, since } = await timeBounds(deps, filters)
  const records = await allImages(deps.images)
  const refsById = await referencesByImage(deps.images, records)
  const summaries: Summary[] = []
  const listed: ImageRecord[] = []
  for (const rec of records) {
    const config = await loadConfig(deps.blobs, rec.id)
    if (!config) continue // deleted since it was listed
    const created = createdOf(config)?.ns
    if (before !== undefined && (created === undefined || created >= before)) continue
    if (since !== undefined && (created === undefined || created <= since)) continue
    const labelled = config.config && filters.matchKVList('label', labelsOf(config))
    if (filters.has('label') && !labelled) continue
    const summary = summaryOf(rec, config)
    for (const r of refsById.get(rec.id) ?? []) {
      if (filters.has('reference') && !matchesAny(filters.get('reference'), r)) continue
      if (r.tagged) (summary.RepoTags ??= []).push(r.familiar)
      else (summary.RepoDigests ??= []).push(r.familiar)
    }
    if (!summary.RepoTags && !summary.RepoDigests) {
      // With no references left: dangling=false and reference filters leave it out.
      if ((filters.has('dangling') && !danglingOnly) || filters.has('reference')) continue
    } else if (danglingOnly && summary.RepoTags) {
      continue
    }
    summaries.push(summary)
    listed.push(rec)
  }
  if (opts.sharedSize) addSharedSizes(summaries, listed, records)
  return summaries.sort((a, b) => b.Created - a.Created || (a.Id < b.Id ? -1 : 1))
}

function summaryOf(rec: ImageRecord, config: ConfigJson): Summary {
  const created = createdOf(config)
  return {
    Containers: 0, // there are no containers here; the route shows -1 before API 1.51
    Created: created ? unixSeconds(created.ns) : 0,
    Id: rec.id,
    Labels: labelsOf(config),
    ParentId: '',
    RepoDigests: null,
    RepoTags: null,
    SharedSize: -1,
    // Docker adds up uncompressed layer sizes; only the compressed ones are known here.
    Size: rec.layers.reduce((n, l) => n + l.size, 0),
  }
}

/** `before` and `until` bound from above (the oldest wins), `since` from below (the newest). */
async function timeBounds(deps: { images: ImageStore; blobs: BlobStore }, filters: FilterArgs) {
  let before: bigint | undefined
  let since: bigint | undefined
  const createdOfName = async (name: string) => {
    const { image } = await resolveImage(deps.images, name)
    const config = await loadConfig(deps.blobs, image.id)
    return config ? createdOf(config)?.ns : undefined
  }
  for (const name of filters.get('before')) {
    const t = await createdOfName(name)
    if (t !== undefined && (before === undefined || t < before)) before = t
  }
  for (const value of filters.get('until')) {
    let t: bigint
    try {
      t = parseTimestamp(value)
    } catch (err) {
      // moby returns this one untyped: a 500, unlike prune's 400.
      throw new ImageError(500, (err as Error).message)
    }
    if (before === undefined || t < before) before = t
  }
  for (const name of filters.get('since')) {
    const t = await createdOfName(name)
    if (t !== undefined && (since === undefined || t > since)) since = t
  }
  return { before, since }
}

/** reference.FamiliarMatch, widened as the notes describe to the full forms as well. */
function matchesAny(patterns: string[], r: ImageRef): boolean {
  const forms = [r.familiar, r.familiarName, r.canonical, r.name]
  try {
    return patterns.some((p) => forms.some((form) => pathMatch(p, form)))
  } catch (err) {
    if (err instanceof BadPatternError) throw new ImageError(500, err.message)
    throw err
  }
}

/**
 * SharedSize: the bytes of this image's blobs that another image holds too. Docker counts
 * shared layer chains; here storage is shared per blob, so sharing is counted per blob.
 */
function addSharedSizes(summaries: Summary[], listed: ImageRecord[], all: ImageRecord[]): void {
  const holders = new Map<string, number>()
  for (const rec of all) {
    for (const d of new Set(rec.layers.map((l) => l.digest))) {
      holders.set(d, (holders.get(d) ?? 0) + 1)
    }
  }
  summaries.forEach((summary, i) => {
    const sizes = new Map(listed[i]!.layers.map((l) => [l.digest, l.size]))
    summary.SharedSize = 0
    for (const [d, size] of sizes) if ((holders.get(d) ?? 0) > 1) summary.SharedSize += size
  })
}
