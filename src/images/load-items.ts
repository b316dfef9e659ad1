/**
 * Load, second pass: which images the archive holds. `manifest.json` decides when present,
 * as in moby's graphdriver load (image-api-notes §8.2); archives with only an OCI
 * `index.json` are read the way the containerd image store reads them: names from the
 * `io.containerd.image.name` annotation, one platform chosen from each index. The manifests
 * index.json leads to are also collected, so that an image loaded through manifest.json can
 * keep the archive's own manifest when it matches.
 */
import { archivePath, resolveLinks } from '../archive/paths.ts'
import { TarError } from '../archive/tar-header.ts'
import type { Digest } from '../oci/digest.ts'
import {
  ImageManifestSchema,
  IndexSchema,
  sniffMediaType,
  type Descriptor,
  type ImageManifest,
} from '../oci/manifest.ts'
import { isImageManifest, isIndex } from '../oci/media-types.ts'
import { matchManifests, type PlatformSpec } from '../oci/platform.ts'
import { familiarString, parseNormalizedNamed } from '../oci/reference.ts'
import { MANIFEST_LIMIT } from '../registry/body.ts'
import type { BlobStore } from '../storage/blobs.ts'
import { blobPath, INDEX_JSON, MANIFEST_JSON, ManifestItemSchema } from './archive-layout.ts'
import type { ArchiveContents, ArchiveFile } from './load-files.ts'

/** One image as the archive lists it; its files are found and checked later. */
export interface LoadItem {
  configPath: string
  layerPaths: string[]
  /** As written in the archive (`busybox:latest`); checked later. */
  repoTags: string[]
  /** Set when the item was found through index.json: the manifest it came from. */
  manifest?: ArchiveManifest
}

/** An image manifest stored in the archive. */
export interface ArchiveManifest {
  digest: Digest
  mediaType: string
  size: number
  manifest: ImageManifest
}

const MAX_JSON = 16 << 20

/** A file of the archive by the path the archive's metadata uses for it. */
export function findFile(contents: ArchiveContents, path: string): ArchiveFile {
  const file = contents.files.get(resolveLinks(archivePath(path), contents.links))
  if (!file) throw new TarError(`invalid archive: ${path}: no such file`)
  return file
}

/** A small file's bytes, wherever the first pass put them. */
export async function fileBytes(blobs: BlobStore, file: ArchiveFile, path: string): Promise<Uint8Array> {
  if (file.kind === 'bytes') return file.bytes
  const bytes = await blobs.bytes(file.digest, MAX_JSON)
  if (!bytes) throw new Error(`${path} (${file.digest}) vanished from the store`)
  return bytes
}

async function readJson(contents: ArchiveContents, blobs: BlobStore, path: string): Promise<unknown> {
  const bytes = await fileBytes(blobs, findFile(contents, path), path)
  try {
    return JSON.parse(new TextDecoder().decode(bytes))
  } catch (err) {
    throw new TarError(`invalid archive: ${path}: ${(err as Error).message}`)
  }
}

const has = (contents: ArchiveContents, path: string) =>
  contents.files.has(resolveLinks(path, contents.links))

/** The images to load and the manifests index.json reaches. */
export async function planItems(
  contents: ArchiveContents,
  blobs: BlobStore,
  platform: PlatformSpec
): Promise<{ items: LoadItem[]; manifests: ArchiveManifest[] }> {
  // moby's load ignores index.json; a broken one only matters when there is nothing else.
  const indexJson = has(contents, INDEX_JSON)
    ? await readJson(contents, blobs, INDEX_JSON).catch((err: Error) => err)
    : undefined
  const index =
    indexJson instanceof Error || indexJson === undefined ? null : IndexSchema.safeParse(indexJson)
  const descriptors = index?.success ? index.data.manifests : []

  if (has(contents, MANIFEST_JSON)) {
    const json = await readJson(contents, blobs, MANIFEST_JSON)
    if (json === null) throw new TarError('invalid manifest, manifest cannot be null (but can be [])')
    if (!Array.isArray(json)) throw new TarError('invalid manifest, manifest.json is not a JSON array')
    const items = json.map((raw, i): LoadItem => {
      const parsed = ManifestItemSchema.safeParse(raw)
      if (!parsed.success) {
        throw new TarError(`invalid manifest, entry ${i}: ${parsed.error.issues[0]?.message}`)
      }
      const { Config, RepoTags, Layers } = parsed.data
      return { configPath: Config, layerPaths: Layers ?? [], repoTags: RepoTags ?? [] }
    })
    const manifests: ArchiveManifest[] = []
    for (const d of descriptors) manifests.push(...(await reachable(contents, blobs, d, null)))
    return { items, manifests }
  }
  if (indexJson instanceof Error) throw indexJson
  if (!index) throw new TarError('invalid archive: does not contain a manifest.json')
  if (!index.success) throw new TarError(`invalid archive: ${INDEX_JSON}: ${index.error.issues[0]?.message}`)

  const items: LoadItem[] = []
  for (const d of descriptors) {
    const [manifest] = await reachable(contents, blobs, d, platform)
    if (!manifest) continue
    const m = manifest.manifest
    items.push({
      configPath: blobPath(m.config.digest),
      layerPaths: m.layers.map((l) => blobPath(l.digest)),
      repoTags: tagFromAnnotations(d),
      manifest,
    })
  }
  return { items, manifests: [] }
}

// The image manifests under `d` that the archive holds: every one, or with `platform` the
// best match of each index.
async function reachable(
  contents: ArchiveContents,
  blobs: BlobStore,
  d: Descriptor,
  platform: PlatformSpec | null,
  depth = 0
): Promise<ArchiveManifest[]> {
  const path = blobPath(d.digest)
  if (!has(contents, path) || depth > 4) return []
  // Registries refuse manifests past 4 MiB, as distribution does: such an image could never be
  // pushed or mirrored. Loading by index.json says so; manifest.json's images just don't use it.
  if (sizeOf(findFile(contents, path)) > MANIFEST_LIMIT) {
    if (!platform) return []
    throw new TarError(`invalid archive: ${path}: manifest larger than ${MANIFEST_LIMIT} bytes`)
  }
  // Not JSON, or too big to be a manifest: not a manifest this load can use.
  const json = await readJson(contents, blobs, path).catch(() => null)
  const mediaType = d.mediaType || sniffMediaType(json) || ''
  if (isIndex(mediaType)) {
    const nested = IndexSchema.safeParse(json)
    if (!nested.success) return []
    const out: ArchiveManifest[] = []
    const candidates = platform ? matchManifests(nested.data.manifests, platform) : nested.data.manifests
    for (const m of candidates) {
      out.push(...(await reachable(contents, blobs, m, platform, depth + 1)))
      if (platform && out.length) break
    }
    return out
  }
  const manifest = isImageManifest(mediaType) ? ImageManifestSchema.safeParse(json) : null
  if (!manifest?.success) return []
  return [{ digest: d.digest, mediaType, size: d.size, manifest: manifest.data }]
}

const sizeOf = (f: ArchiveFile): number => (f.kind === 'bytes' ? f.bytes.byteLength : f.size)

// containerd's import names images by io.containerd.image.name, else by the ref name when
// that is a whole reference.
function tagFromAnnotations(d: Descriptor): string[] {
  const a = d.annotations ?? {}
  const name = a['io.containerd.image.name'] ?? a['org.opencontainers.image.ref.name']
  if (!name) return []
  try {
    const ref = parseNormalizedNamed(name)
    return ref.tag && !ref.digest ? [familiarString(ref)] : []
  } catch {
    return []
  }
}
