/**
 * POST /images/{name}/tag, as moby's router and TagImage do it: `repo` and `tag` make the new
 * reference (400 when they cannot), any failure to find the source is a 404, an existing tag
 * moves silently, and the image's LastTagTime becomes now.
 */
import {
  canonicalName,
  familiarName,
  isValidTag,
  parseNormalizedNamed,
  withDefaultTag,
  type Reference,
} from '../oci/reference.ts'
import type { ImageStore } from '../storage/images.ts'
import { ImageError } from './errors.ts'
import { exclusive } from '../storage/lock.ts'
import { resolveImage } from './resolve.ts'
import { nowRfc3339Nano } from './time.ts'

/**
 * httputils.RepoTagReference: `repo` (which may carry a tag of its own) with `tag` replacing
 * it, `latest` by default. Null when `repo` is empty.
 */
export function repoTagReference(
  repo: string | undefined,
  tag: string | undefined
): Reference | null {
  if (!repo) return null
  let ref: Reference
  try {
    ref = parseNormalizedNamed(repo)
  } catch (err) {
    throw new ImageError(400, (err as Error).message)
  }
  if (ref.digest) throw new ImageError(400, 'cannot import digest reference')
  if (!tag) return withDefaultTag(ref)
  if (!isValidTag(tag)) throw new ImageError(400, 'invalid tag format')
  return { domain: ref.domain, path: ref.path, tag }
}

/** Points `ref` at the image `name` resolves to and stamps its LastTagTime. */
export async function tagImage(images: ImageStore, name: string, ref: Reference): Promise<void> {
  if (familiarName(ref) === 'sha256') {
    throw new ImageError(400, 'refusing to create an ambiguous tag using digest algorithm as name')
  }
  await exclusive(images, async () => {
    const { image } = await resolveImage(images, name).catch((err: Error) => {
      // The router turns every lookup failure into "not found", bad names included.
      throw new ImageError(404, err.message, { cause: err })
    })
    await images.setTag(`${canonicalName(ref)}:${ref.tag}`, image.id)
    await images.putImage({ ...image, lastTagTime: nowRfc3339Nano() })
  })
}
