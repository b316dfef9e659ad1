/**
 * What moby's reference store answers for an image: its tags (Engine tags in the image store)
 * and its digest references (the record's repoDigests), sorted by their full string as
 * References(id) sorts them. RepoTags and RepoDigests are built from these, in this order.
 */
import type { Digest } from '../oci/digest.ts'
import {
  canonicalName,
  canonicalString,
  familiarName,
  familiarString,
  parseNormalizedNamed,
  type Reference,
} from '../oci/reference.ts'
import type { ImageRecord, ImageStore } from '../storage/images.ts'

/** One reference to an image. */
export interface ImageRef {
  readonly ref: Reference
  /** `docker.io/library/busybox:latest`: what moby sorts by and stores. */
  readonly canonical: string
  /** `busybox:latest`, as Docker prints it. */
  readonly familiar: string
  /** The repository: `docker.io/library/busybox`. */
  readonly name: string
  /** `busybox`. */
  readonly familiarName: string
  /** A tag (NamedTagged) rather than a digest reference (Canonical). */
  readonly tagged: boolean
}

/** Builds an ImageRef from a reference. */
export function imageRef(ref: Reference): ImageRef {
  return {
    ref,
    canonical: canonicalString(ref),
    familiar: familiarString(ref),
    name: canonicalName(ref),
    familiarName: familiarName(ref),
    tagged: ref.tag !== undefined && ref.digest === undefined,
  }
}

function parseStored(s: string): ImageRef | null {
  try {
    return imageRef(parseNormalizedNamed(s))
  } catch {
    return null // written by something else; it cannot name an image here anyway
  }
}

const byCanonical = (a: ImageRef, b: ImageRef) =>
  a.canonical < b.canonical ? -1 : a.canonical > b.canonical ? 1 : 0

/** References(id) for every image in `records`, in one pass over the tags. */
export async function referencesByImage(
  images: ImageStore,
  records: Iterable<ImageRecord>
): Promise<Map<Digest, ImageRef[]>> {
  const out = new Map<Digest, ImageRef[]>()
  for (const rec of records) {
    out.set(rec.id, rec.repoDigests.map(parseStored).filter((r) => r !== null))
  }
  for await (const { ref, id } of images.listTags()) {
    const parsed = parseStored(ref)
    if (parsed) out.get(id)?.push(parsed)
  }
  for (const refs of out.values()) refs.sort(byCanonical)
  return out
}

/** References(id) for one image. */
export async function referencesOf(images: ImageStore, rec: ImageRecord): Promise<ImageRef[]> {
  return (await referencesByImage(images, [rec])).get(rec.id) ?? []
}

/** Every image record, read once. */
export async function allImages(images: ImageStore): Promise<ImageRecord[]> {
  const out: ImageRecord[] = []
  for await (const rec of images.listImages()) out.push(rec)
  return out
}
