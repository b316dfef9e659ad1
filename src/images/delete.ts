/**
 * DELETE /images/{name}, as moby's graphdriver ImageDelete decides it: by reference, untag
 * (and the repository's digest references once its last tag goes), deleting the image only
 * when nothing references it any more; by ID, untag everything when the references stay in
 * one repository, else 409 unless forced. Deleting reports the image and the layer chains it
 * released, then frees the blobs nothing else holds. There are no containers and no parent
 * images here, so those conflicts and `noprune` never come into play.
 */
import { shortId } from '../oci/digest.ts'
import type { PlatformSpec } from '../oci/platform.ts'
import {
  canonicalName,
  familiarString,
  parseNormalizedNamed,
  withDefaultTag,
  type Reference,
} from '../oci/reference.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageRecord, ImageStore } from '../storage/images.ts'
import { chainIds, releasedChains } from './chain.ts'
import { ImageError } from './errors.ts'
import { exclusive } from '../storage/lock.ts'
import { allImages, referencesOf, type ImageRef } from './references.ts'
import { blobsOf, releaseBlobs } from './release.ts'
import { isImageIdPrefix, resolveImage } from './resolve.ts'

/** What deleting needs. */
export interface DeleteDeps {
  images: ImageStore
  blobs: BlobStore
}

/** `force`, and the one platform of `platforms`. */
export interface DeleteOptions {
  force?: boolean
  /** `platforms` with one entry: the image must be for it. */
  platform?: PlatformSpec
}

/** One ImageDeleteResponseItem: exactly one key. */
export type DeleteItem = { Untagged: string } | { Deleted: string }

/** The response items, and what the store freed (prune adds it up). */
export interface DeleteResult {
  items: DeleteItem[]
  /** Bytes of blobs actually removed from the store. */
  freed: number
}

/** Deletes or untags `name`, one mutation at a time per store. */
export function deleteImage(
  deps: DeleteDeps,
  name: string,
  opts: DeleteOptions = {}
): Promise<DeleteResult> {
  return exclusive(deps.images, () => deleteImageLocked(deps, name, opts))
}

/** deleteImage for callers already holding the store's lock (prune). */
export async function deleteImageLocked(
  deps: DeleteDeps,
  name: string,
  opts: DeleteOptions = {}
): Promise<DeleteResult> {
  const { image } = await resolveImage(deps.images, name, { platform: opts.platform })
  const refs = new RefSet(deps, image)
  const items: DeleteItem[] = []
  let remaining: ImageRef[]
  if (!isImageIdPrefix(image.id, name)) {
    let parsed: Reference
    try {
      parsed = withDefaultTag(parseNormalizedNamed(name))
    } catch (err) {
      throw new ImageError(400, (err as Error).message)
    }
    await refs.remove(parsed)
    items.push({ Untagged: familiarString(parsed) })
    remaining = await refs.list()
    // The repository's last tag gone: its digest references go with it.
    const repo = canonicalName(parsed)
    if (!parsed.digest && !remaining.some((r) => r.tagged && r.name === repo)) {
      for (const r of remaining.filter((r) => !r.tagged && r.name === repo)) {
        await refs.remove(r.ref)
        items.push({ Untagged: r.familiar })
      }
      remaining = remaining.filter((r) => r.tagged || r.name !== repo)
    }
    if (remaining.length > 0) return { items, freed: 0 }
  } else {
    remaining = await refs.list()
    if (isSingleReference(remaining)) {
      for (const r of remaining) {
        await refs.remove(r.ref)
        items.push({ Untagged: r.familiar })
      }
      remaining = []
    }
  }
  if (remaining.length > 0) {
    if (!opts.force) {
      const id = shortId(image.id)
      const why = 'image is referenced in multiple repositories'
      throw new ImageError(409, `conflict: unable to delete ${id} (must be forced) - ${why}`)
    }
    for (const r of remaining) {
      await refs.remove(r.ref)
      items.push({ Untagged: r.familiar })
    }
  }
  return { items, freed: await deleteRecord(deps, refs.current, items) }
}

/** Removes the record, reports it and its released layer chains, frees its blobs. */
async function deleteRecord(
  deps: DeleteDeps,
  image: ImageRecord,
  items: DeleteItem[]
): Promise<number> {
  await deps.images.deleteImage(image.id)
  items.push({ Deleted: image.id })
  const diffIds = (rec: ImageRecord) => rec.layers.map((l) => l.diffId)
  const used = new Set((await allImages(deps.images)).flatMap((rec) => chainIds(diffIds(rec))))
  for (const chain of releasedChains(diffIds(image), used)) items.push({ Deleted: chain })
  return releaseBlobs(deps, blobsOf(image))
}

/**
 * moby's isSingleReference: the references stay in one repository, with at most one tag.
 * False for none at all.
 */
export function isSingleReference(refs: readonly ImageRef[]): boolean {
  if (refs.length <= 1) return refs.length === 1
  let single: ImageRef | undefined
  const digestRepos = new Set<string>()
  for (const r of refs) {
    if (!r.tagged) digestRepos.add(r.name)
    else if (!single) single = r
    else return false
  }
  single ??= refs[0]!
  return digestRepos.size === 1 && digestRepos.has(single.name)
}

/** An image's references while they go: tags in the tag store, digests in the record. */
class RefSet {
  constructor(
    private readonly deps: DeleteDeps,
    public current: ImageRecord
  ) {}

  list(): Promise<ImageRef[]> {
    return referencesOf(this.deps.images, this.current)
  }

  /** referenceStore.Delete: idempotent; a reference with a digest is removed by its digest. */
  async remove(ref: Reference): Promise<void> {
    const name = canonicalName(ref)
    if (!ref.digest) {
      await this.deps.images.deleteTag(`${name}:${ref.tag}`)
      return
    }
    const digestRef = `${name}@${ref.digest}`
    if (!this.current.repoDigests.includes(digestRef)) return
    const repoDigests = this.current.repoDigests.filter((d) => d !== digestRef)
    this.current = { ...this.current, repoDigests }
    await this.deps.images.putImage(this.current)
  }
}
