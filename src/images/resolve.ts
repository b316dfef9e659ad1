/**
 * How an Engine API `{name}` finds an image (image-api-notes §2, "How {name} resolves"):
 * an image ID, a reference in the tag store (`latest` added), a digest reference, and
 * finally an unambiguous ID prefix. Save has its own rules and does not use this.
 */
import { hex, type Digest } from '../oci/digest.ts'
import {
  canonicalName,
  familiarString,
  isImageId,
  parseAnyReference,
  withDefaultTag,
  type Reference,
} from '../oci/reference.ts'
import type { ImageRecord, ImageStore } from '../storage/images.ts'
import { ImageError, noSuchImage } from './errors.ts'

export interface Resolved {
  image: ImageRecord
  /** The reference the name matched, when it was one (with its default tag). */
  ref?: Reference
}

/** Resolves `name`, or throws ImageError 404 `No such image: …` / 400 for a bad reference. */
export async function resolveImage(images: ImageStore, name: string): Promise<Resolved> {
  if (!name) throw new ImageError(400, 'image name cannot be blank')
  let parsed
  try {
    parsed = parseAnyReference(name)
  } catch (err) {
    // Short hex strings fail reference parsing only when they are not valid names at all.
    const byPrefix = await findByIdPrefix(images, name)
    if (byPrefix) return { image: byPrefix }
    throw new ImageError(400, (err as Error).message)
  }
  if (isImageId(parsed)) {
    const image = await images.getImage(parsed.id)
    if (image) return { image }
    throw noSuchImage(parsed.id)
  }
  const ref = withDefaultTag(parsed)
  const image = await findByReference(images, ref)
  if (image) return { image, ref }
  const byPrefix = await findByIdPrefix(images, name)
  if (byPrefix) return { image: byPrefix }
  throw noSuchImage(familiarString(ref))
}

/** `name@digest` wins over `name:tag` when both are given, as in the reference store. */
export async function findByReference(images: ImageStore, ref: Reference): Promise<ImageRecord | null> {
  if (ref.digest) {
    const wanted = `${canonicalName(ref)}@${ref.digest}`
    for await (const image of images.listImages()) {
      if (image.repoDigests.includes(wanted)) return image
    }
    return null
  }
  const id = await images.getTag(`${canonicalName(ref)}:${ref.tag}`)
  return id ? images.getImage(id) : null
}

/** The one image whose ID starts with `prefix` (with or without `sha256:`); none if ambiguous. */
export async function findByIdPrefix(images: ImageStore, prefix: string): Promise<ImageRecord | null> {
  const p = prefix.replace(/^sha256:/, '')
  if (!/^[a-f0-9]{1,64}$/.test(p)) return null
  let found: ImageRecord | null = null
  for await (const image of images.listImages()) {
    if (!hex(image.id as Digest).startsWith(p)) continue
    if (found) return null
    found = image
  }
  return found
}
