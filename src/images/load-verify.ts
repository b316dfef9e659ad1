/**
 * Load, third pass: each listed image checked against its own config, as moby's load does
 * (image-api-notes §8.2): the layer count matches `rootfs.diff_ids`, every layer's DiffID
 * (its digest, or its decompressed digest when gzip'ed) is the config's, tags are tags. The
 * image ID is the config's digest. Nothing is recorded here; blobs the image needs but the
 * archive did not store under their digest (small files, a manifest) are stored now.
 */
import { contentTap } from '../archive/content-tap.ts'
import { TarError } from '../archive/tar-header.ts'
import { sha256, type Digest } from '../oci/digest.ts'
import { ImageConfigSchema, type ImageConfig } from '../oci/manifest.ts'
import { MediaType } from '../oci/media-types.ts'
import { platformMatches, type PlatformSpec } from '../oci/platform.ts'
import { parseNormalizedNamed, type Reference } from '../oci/reference.ts'
import { MANIFEST_LIMIT } from '../registry/body.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { LayerRecord } from '../storage/images.ts'
import { ImageError } from './errors.ts'
import type { ArchiveContents, ArchiveFile, Stored } from './load-files.ts'
import { fileBytes, findFile, type ArchiveManifest, type LoadItem } from './load-items.ts'

/** An image ready to be recorded: every blob it names is in the store and checked. */
export interface VerifiedImage {
  id: Digest
  config: ImageConfig
  configMediaType: string
  configSize: number
  manifest: { digest: Digest; mediaType: string; size: number }
  layers: LayerRecord[]
  tags: Reference[]
}

/** What verification needs besides the item. */
export interface VerifyContext {
  contents: ArchiveContents
  blobs: BlobStore
  stored: Stored
  /** index.json's manifests, to keep the archive's own manifest when one matches. */
  manifests: ArchiveManifest[]
  /** Only images for this platform are loaded; the others are skipped silently. */
  platform?: PlatformSpec
}

type StoredFile = Extract<ArchiveFile, { kind: 'blob' }>

/** Checks one item; null when the platform filter skips it. Throws with Docker's wording. */
export async function verifyItem(item: LoadItem, ctx: VerifyContext): Promise<VerifiedImage | null> {
  const configFile = await asBlob(findFile(ctx.contents, item.configPath), ctx)
  const configBytes = await fileBytes(ctx.blobs, configFile, item.configPath)
  const id = sha256(configBytes)
  const config = parseConfig(configBytes, item.configPath)
  const os = config.os || 'linux' // moby reads a missing os as the host's
  const { architecture, variant } = config
  if (os !== 'linux') throw new ImageError(500, `cannot load ${os} image on linux`)
  if (ctx.platform && !platformMatches({ os, architecture, variant }, ctx.platform)) return null
  const diffIds = config.rootfs.diff_ids
  if (item.layerPaths.length !== diffIds.length) {
    throw new TarError(
      `invalid manifest, layers length mismatch: expected ${item.layerPaths.length}, got ${diffIds.length}`
    )
  }

  const files: StoredFile[] = []
  for (const [i, path] of item.layerPaths.entries()) {
    const file = await asBlob(findFile(ctx.contents, path), ctx)
    const diffId = diffIdOf(file, path)
    if (diffId !== diffIds[i]) {
      throw new TarError(`invalid diffID for layer ${i}: expected "${diffIds[i]}", got "${diffId}"`)
    }
    const described = item.manifest?.manifest.layers[i]
    if (described && (described.digest !== file.digest || described.size !== file.size)) {
      throw new TarError(`invalid archive: ${path} does not match its manifest`)
    }
    files.push(file)
  }
  const digests = files.map((f) => f.digest)
  const manifest = item.manifest ?? ctx.manifests.find((m) => describes(m, id, digests))
  const layers = files.map((f, i) => ({
    digest: f.digest,
    size: f.size,
    mediaType:
      manifest?.manifest.layers[i].mediaType ??
      (f.compression ? MediaType.ociLayerGzip : MediaType.ociLayer),
    diffId: diffIds[i] as Digest,
  }))
  const configMediaType = manifest?.manifest.config.mediaType ?? MediaType.ociConfig
  return {
    id,
    config,
    configMediaType,
    configSize: configBytes.byteLength,
    manifest: manifest
      ? { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.size }
      : await storeManifest(id, configBytes.byteLength, layers, ctx),
    layers,
    tags: item.repoTags.map(parseTag),
  }
}

function parseConfig(bytes: Uint8Array, path: string): ImageConfig {
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder().decode(bytes))
  } catch (err) {
    throw new TarError(`invalid archive: ${path}: ${(err as Error).message}`)
  }
  const parsed = ImageConfigSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new TarError(`invalid image config ${path}: ${issue?.path.join('.')}: ${issue?.message}`)
  }
  return parsed.data
}

function diffIdOf(file: StoredFile, path: string): Digest {
  if (file.compression === null) return file.digest
  if (file.compression !== 'gzip') {
    throw new TarError(`invalid archive: ${path}: unsupported layer compression ${file.compression}`)
  }
  if (!file.uncompressedDigest) throw new TarError(`invalid archive: ${path}: invalid gzip data`)
  return file.uncompressedDigest
}

const describes = (m: ArchiveManifest, id: Digest, layers: Digest[]): boolean =>
  m.manifest.config.digest === id &&
  m.manifest.layers.length === layers.length &&
  m.manifest.layers.every((l, i) => l.digest === layers[i])

function parseTag(repoTag: string): Reference {
  const ref = parseNormalizedNamed(repoTag)
  if (!ref.tag || ref.digest) throw new TarError(`invalid tag ${JSON.stringify(repoTag)}`)
  return ref
}

// A small file kept in memory becomes a blob once it turns out to be part of an image.
async function asBlob(file: ArchiveFile, ctx: VerifyContext): Promise<StoredFile> {
  if (file.kind === 'blob') return file
  const digest = sha256(file.bytes)
  const tap = contentTap()
  const bytes = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(file.bytes)
      c.close()
    },
  })
  await bytes.pipeThrough(tap.stream).pipeTo(new WritableStream())
  await putNew(ctx, digest, file.bytes)
  return { kind: 'blob', digest, size: file.bytes.byteLength, ...(await tap.result()) }
}

async function putNew(ctx: VerifyContext, digest: Digest, bytes: Uint8Array): Promise<void> {
  if (await ctx.blobs.stat(digest)) return
  await ctx.blobs.put(digest, bytes)
  ctx.stored.add(digest)
}

// The manifest docker 25+ writes for a loaded image: OCI types, layers as stored.
async function storeManifest(
  id: Digest,
  configSize: number,
  layers: LayerRecord[],
  ctx: VerifyContext
): Promise<VerifiedImage['manifest']> {
  const json = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: id, size: configSize },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }
  const bytes = new TextEncoder().encode(JSON.stringify(json))
  if (bytes.byteLength > MANIFEST_LIMIT) {
    const why = `its manifest would be larger than ${MANIFEST_LIMIT} bytes`
    throw new TarError(`invalid archive: image ${id} has ${layers.length} layers: ${why}`)
  }
  const digest = sha256(bytes)
  await putNew(ctx, digest, bytes)
  return { digest, mediaType: MediaType.ociManifest, size: bytes.byteLength }
}
