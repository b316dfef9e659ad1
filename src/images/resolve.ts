/**
 * How an Engine API `{name}` finds an image (image-api-notes §2, "How {name} resolves"):
 * an image ID, a reference in the tag store (`latest` added), a digest reference, and
 * finally an unambiguous ID prefix. Save has its own rules and does not use this.
 */
import { hex, isDigest, type Digest } from '../oci/digest.ts'
import { formatPlatform, platformMatches, type PlatformSpec } from '../oci/platform.ts'
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

/** The image a name resolved to. */
export interface Resolved {
  image: ImageRecord
  /** The reference the name matched, when it was one (with its default tag). */
  ref?: Reference
}

/** Extra conditions on the image found. */
export interface ResolveOptions {
  /** The image must be for this platform (inspect, history and delete take one). */
  platform?: PlatformSpec
}

/**
 * Resolves `name` as moby's GetImage does, or throws ImageError: 404 `No such image: …`, 400
 * for a name that is not a reference at all, 404 when `platform` does not match the image.
 */
export async function resolveImage(
  images: ImageStore,
  name: string,
  opts: ResolveOptions = {}
): Promise<Resolved> {
  const found = await lookup(images, name)
  const { platform } = opts
  if (platform && !platformMatches(found.image.platform, platform)) {
    const has = formatPlatform(found.image.platform)
    throw new ImageError(
      404,
      `image with reference ${name} was found but its platform (${has}) does not match the specified platform (${formatPlatform(platform)})`
    )
  }
  return found
}

/**
 * The first step every `{name}` takes: a bad reference is a 400 (any name an ID prefix could
 * be parses, so moby stops there too), and an image ID is looked up at once (404 if absent).
 */
export async function parseImageName(
  images: ImageStore,
  name: string
): Promise<{ image: ImageRecord; ref?: undefined } | { image?: undefined; ref: Reference }> {
  let parsed
  try {
    parsed = parseAnyReference(name)
  } catch (err) {
    throw new ImageError(400, (err as Error).message)
  }
  if (!isImageId(parsed)) return { ref: parsed }
  // sha384/sha512 parse as IDs, but no image here can have one.
  const image = isDigest(parsed.id) ? await images.getImage(parsed.id) : null
  if (!image) throw noSuchImage(parsed.id)
  return { image }
}

async function lookup(images: ImageStore, name: string): Promise<Resolved> {
  if (!name) throw new ImageError(400, 'image name cannot be blank')
  const parsed = await parseImageName(images, name)
  if (parsed.image) return { image: parsed.image }
  const ref = withDefaultTag(parsed.ref)
  const image = await findByReference(images, ref)
  if (image) return { image, ref }
  const byPrefix = await findByIdPrefix(images, name)
  if (byPrefix) return { image: byPrefix }
  throw noSuchImage(familiarString(ref))
}

/** `name@digest` wins over `name:tag` when both are given, as in the reference store. */
export async function findByReference(
  images: ImageStore,
  ref: Reference
): Promise<ImageRecord | null> {
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
export async function findByIdPrefix(
  images: ImageStore,
  prefix: string
): Promise<ImageRecord | null> {
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

/** moby's isImageIDPrefix: `name` is how the ID begins, with or without `sha256:`. */
export const isImageIdPrefix = (id: Digest, name: string): boolean =>
  id.startsWith(name) || hex(id).startsWith(name)
