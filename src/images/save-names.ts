/**
 * Which images a save writes, and under which tags: moby's tarexport parseNames
 * (image-api-notes §8.1). A bare name saves every tag of its repository (and images known
 * there only by digest, untagged); `name:tag` saves that tag; IDs, ID prefixes and digest
 * references save the image untagged; an image named twice is written once.
 */
import { isDigest } from '../oci/digest.ts'
import { formatPlatform, platformMatches, type PlatformSpec } from '../oci/platform.ts'
import {
  canonicalName,
  canonicalString,
  familiarName,
  parseNormalizedNamed,
  type Reference,
} from '../oci/reference.ts'
import type { ImageRecord, ImageStore } from '../storage/images.ts'
import { ImageError, noSuchImage } from './errors.ts'
import { findByIdPrefix, findByReference, parseImageName } from './resolve.ts'

/** An image to save with the tags to save it under (canonical tagged references). */
export interface SaveImage {
  record: ImageRecord
  tags: Reference[]
}

/** Resolves `names` in order; throws ImageError (404, 400) before anything is written. */
export async function resolveSaveNames(
  images: ImageStore,
  names: string[],
  platform?: PlatformSpec
): Promise<SaveImage[]> {
  const out = new Map<string, SaveImage>()
  const add = (record: ImageRecord, tag?: Reference) => {
    if (platform && !platformMatches(record.platform, platform)) {
      throw new ImageError(404, `no suitable export target found for platform ${formatPlatform(platform)}`)
    }
    if (!record.layers.length) throw new ImageError(500, 'empty export - not implemented')
    const entry = out.get(record.id) ?? { record, tags: [] }
    out.set(record.id, entry)
    if (tag && !entry.tags.some((t) => canonicalString(t) === canonicalString(tag))) entry.tags.push(tag)
  }

  for (const name of names) {
    const { image, ref: parsed } = await parseImageName(images, name)
    if (image) {
      add(image)
      continue
    }
    if (familiarName(parsed) === 'sha256') {
      add(await byIdPrefix(images, name))
      continue
    }
    if (!parsed.tag && !parsed.digest) {
      const found = await everyReferenceOf(images, parsed)
      if (!found.length) add(await byIdPrefix(images, name))
      for (const { record, tag } of found) add(record, tag)
      continue
    }
    const record = parsed.digest
      ? await findByReference(images, parsed)
      : await tagged(images, `${canonicalName(parsed)}:${parsed.tag}`)
    if (!record) throw new ImageError(404, 'reference does not exist')
    add(record, parsed.digest ? undefined : parsed)
  }
  return [...out.values()]
}

async function tagged(images: ImageStore, ref: string): Promise<ImageRecord | null> {
  const id = await images.getTag(ref)
  return id && images.getImage(id)
}

// moby's is.Search: the raw name as an ID prefix, "No such image: <name>" otherwise.
async function byIdPrefix(images: ImageStore, name: string): Promise<ImageRecord> {
  const record = await findByIdPrefix(images, name)
  if (!record) throw noSuchImage(name)
  return record
}

// ReferencesByName: the repository's tags (sorted, as the reference store keeps them), then
// the images it knows by digest only.
async function everyReferenceOf(
  images: ImageStore,
  repo: Reference
): Promise<{ record: ImageRecord; tag?: Reference }[]> {
  const name = canonicalName(repo)
  const tags: { ref: Reference; id: string }[] = []
  for await (const { ref, id } of images.listTags()) {
    if (!ref.startsWith(`${name}:`)) continue
    const parsed = parseStored(ref)
    if (parsed && canonicalName(parsed) === name && parsed.tag) tags.push({ ref: parsed, id })
  }
  tags.sort((a, b) => (canonicalString(a.ref) < canonicalString(b.ref) ? -1 : 1))
  const out: { record: ImageRecord; tag?: Reference }[] = []
  for (const { ref, id } of tags) {
    const record = isDigest(id) ? await images.getImage(id) : null
    if (record) out.push({ record, tag: ref })
  }
  for await (const record of images.listImages()) {
    if (record.repoDigests.some((d) => d.startsWith(`${name}@`))) out.push({ record })
  }
  return out
}

function parseStored(ref: string): Reference | null {
  try {
    return parseNormalizedNamed(ref)
  } catch {
    return null
  }
}
