/**
 * The metadata files of a `docker save` archive (image-api-notes §8.1): `manifest.json`,
 * `repositories`, `oci-layout` and `index.json`, byte for byte as moby's tarexport writes
 * them (Go's encoding/json: struct fields in declaration order, map keys sorted, Encoder adds
 * a newline, Marshal does not), and the manifest.json schema load reads.
 */
import { z } from 'zod'
import { hex, type Digest } from '../oci/digest.ts'
import { MediaType } from '../oci/media-types.ts'
import { canonicalString, familiarName, familiarString, type Reference } from '../oci/reference.ts'

/** Docker's list of images in the archive: what load reads. */
export const MANIFEST_JSON = 'manifest.json'
/** The OCI image layout's index. */
export const INDEX_JSON = 'index.json'
/** The OCI image layout's marker file. */
export const OCI_LAYOUT = 'oci-layout'
/** The pre-1.10 tag file, still written. */
export const REPOSITORIES = 'repositories'

/** `blobs/sha256/<hex>`: where an OCI image layout keeps a blob. */
export const blobPath = (d: Digest): string => `blobs/sha256/${hex(d)}`

/** The digest an archive path names when it is `blobs/sha256/<64 hex>`; null otherwise. */
export function digestOfBlobPath(path: string): Digest | null {
  const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path)
  return m ? `sha256:${m[1]}` : null
}

/** One `manifest.json` entry as load reads it (moby's manifestItem; Layers may be absent). */
export const ManifestItemSchema = z.looseObject({
  Config: z.string(),
  RepoTags: z.array(z.string()).nullish(),
  Layers: z.array(z.string()).nullish(),
  Parent: z.string().optional(),
})
/** One parsed `manifest.json` entry. */
export type ManifestItem = z.infer<typeof ManifestItemSchema>

/** One saved image, as the metadata files describe it. */
export interface SavedImage {
  id: Digest
  manifest: { digest: Digest; mediaType: string; size: number }
  /** Tagged references, in the order they were asked for. */
  tags: Reference[]
  layers: Digest[]
  /** Top layer DiffID, for `repositories`. */
  topDiffId: Digest
}

const utf8 = new TextEncoder()
const sorted = <T>(o: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))

/** `manifest.json`: one item per image; RepoTags null when untagged; newline-terminated. */
export function manifestJson(images: SavedImage[]): Uint8Array {
  const items = images.map((img) => ({
    Config: blobPath(img.id),
    RepoTags: img.tags.length ? img.tags.map(familiarString) : null,
    Layers: img.layers.map(blobPath),
  }))
  return utf8.encode(`${JSON.stringify(items)}\n`)
}

/** `repositories`: repository → tag → top layer DiffID hex; null when nothing is tagged. */
export function repositoriesJson(images: SavedImage[]): Uint8Array | null {
  const repos: Record<string, Record<string, string>> = {}
  for (const img of images) {
    for (const ref of img.tags) (repos[familiarName(ref)] ??= {})[ref.tag!] = hex(img.topDiffId)
  }
  if (!Object.keys(repos).length) return null
  const out = sorted(Object.fromEntries(Object.entries(repos).map(([k, v]) => [k, sorted(v)])))
  return utf8.encode(`${JSON.stringify(out)}\n`)
}

/** `oci-layout`, exactly as moby writes it (a space after the colon, no newline). */
export const ociLayout = (): Uint8Array => utf8.encode('{"imageLayoutVersion": "1.0.0"}')

/** `index.json`: one annotated descriptor per tag, a bare one per untagged image. */
export function indexJson(images: SavedImage[]): Uint8Array {
  const manifests = images.flatMap((img) => {
    const { digest, mediaType, size } = img.manifest
    if (!img.tags.length) return [{ mediaType, digest, size }]
    return img.tags.map((ref) => ({
      mediaType,
      digest,
      size,
      annotations: {
        'io.containerd.image.name': canonicalString(ref),
        'org.opencontainers.image.ref.name': ref.tag!,
      },
    }))
  })
  return utf8.encode(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }))
}
