/**
 * GET /images/{name}/history, as moby's graphdriver ImageHistory builds it from the config's
 * history: newest first, empty layers sized 0, the top entry carrying the image ID and its
 * tags, the rest `<missing>` with null tags (pulled images have no local parents).
 */
import type { PlatformSpec } from '../oci/platform.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageStore } from '../storage/images.ts'
import { loadConfig } from './config.ts'
import { ImageError, noSuchImage } from './errors.ts'
import { referencesOf } from './references.ts'
import { resolveImage } from './resolve.ts'
import { parseGoTime, unixSeconds } from './time.ts'

/** HistoryResponseItem: every key always present. */
export interface HistoryItem {
  Comment: string
  Created: number
  CreatedBy: string
  Id: string
  Size: number
  Tags: string[] | null
}

/** The history of the image `name` resolves to. */
export async function imageHistory(
  deps: { images: ImageStore; blobs: BlobStore },
  name: string,
  platform?: PlatformSpec
): Promise<HistoryItem[]> {
  const { image } = await resolveImage(deps.images, name, { platform })
  const config = await loadConfig(deps.blobs, image.id)
  if (!config) throw noSuchImage(name) // deleted while we looked
  const items: HistoryItem[] = []
  let layer = 0
  for (const h of config.history ?? []) {
    let size = 0
    if (!h.empty_layer) {
      const l = image.layers[layer++]
      if (!l) throw new ImageError(500, 'too many non-empty layers in History section')
      // Docker reports the layer's unpacked size; only the compressed size is known here.
      size = l.size
    }
    const created = parseGoTime(h.created)
    items.unshift({
      Comment: h.comment ?? '',
      Created: created ? unixSeconds(created.ns) : 0,
      CreatedBy: h.created_by ?? '',
      Id: '<missing>',
      Size: size,
      Tags: null,
    })
  }
  const top = items[0]
  if (top) {
    top.Id = image.id
    const tags = (await referencesOf(deps.images, image)).filter((r) => r.tagged)
    top.Tags = tags.length > 0 ? tags.map((r) => r.familiar) : null
  }
  return items
}
