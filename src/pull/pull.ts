/**
 * Docker's pull, as dockerd's V2 puller does it: resolve the tag on the first endpoint that
 * answers (mirrors first for docker.io), pick the platform from an index, fetch the config,
 * download missing layers with bounded concurrency (shared with concurrent pulls of the same
 * blob), and only then record the image and move the tag. Everything lands in the store
 * verified; an interrupted pull leaves only whole, verified blobs behind.
 */
import { DOCKER_HUB, type RegistryConfig } from '../config.ts'
import { isDigest, type Digest } from '../oci/digest.ts'
import {
  ImageConfigSchema,
  ImageManifestSchema,
  IndexSchema,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
} from '../oci/manifest.ts'
import { isImageConfig, isImageManifest, isIndex, isLayer } from '../oci/media-types.ts'
import { formatPlatform, matchManifests, platformMatches, type PlatformSpec } from '../oci/platform.ts'
import { canonicalName, familiarString, type Reference } from '../oci/reference.ts'
import type { RegistryClient, RepositoryClient } from '../registry/client.ts'
import type { Credentials } from '../registry/auth/credentials.ts'
import { configuredCredentials, lookupPullEndpoints, shouldFallback } from '../registry/endpoints.ts'
import { UnsupportedManifestError } from '../registry/errors.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageRecord, ImageStore } from '../storage/images.ts'
import { exclusive } from '../storage/lock.ts'
import { Channel } from './channel.ts'
import { PullError, toPullError } from './errors.ts'
import type { PullEvent } from './events.ts'
import { blobSource, downloadLayers } from './layers.ts'
import type { Fills } from './fills.ts'

export interface PullDeps {
  registry: RegistryClient
  blobs: BlobStore
  images: ImageStore
  registries: Record<string, RegistryConfig>
  /** Blob downloads in flight, shared with concurrent pulls and the mirror. */
  fills: Fills
  maxConcurrentDownloads: number
  platform: PlatformSpec
}

export interface PullOptions {
  /** `--platform`; the server's configured platform otherwise. */
  platform?: PlatformSpec
  /** From X-Registry-Auth; the config's credentials for the registry otherwise. */
  credentials?: Credentials
  signal?: AbortSignal
}

const MAX_MANIFEST = 4 * 1024 * 1024

interface Fetched {
  bytes: Uint8Array
  digest: Digest
  mediaType: string
}

/**
 * Pulls `ref` (which has a tag or a digest). Errors raised before the first event are
 * thrown from the first `next()`, so the HTTP layer can answer them with a status code.
 */
export async function* pullImage(
  ref: Reference,
  deps: PullDeps,
  opts: PullOptions = {}
): AsyncGenerator<PullEvent> {
  const { repo, top, unsupported } = await resolveTop(ref, deps, opts)
  yield { type: 'start', id: ref.digest ? `${canonicalName(ref)}@${ref.digest}` : ref.tag!, repository: ref.path }
  if (unsupported) throw new PullError(400, unsupported.dockerText(familiarString(ref)))

  const target = opts.platform ?? deps.platform
  const events = new Channel<PullEvent>()
  const done = (async () => {
    try {
      const chosen = isIndex(top.mediaType) ? await pickFromIndex(top, repo, target, opts.signal) : top
      const manifest = parseManifest(chosen, ref)
      const config = await fetchConfig(manifest, repo, deps, opts.signal)
      if (config.rootfs.diff_ids.length !== manifest.layers.length) {
        throw new PullError(
          500,
          `invalid image config ${manifest.config.digest}: ${config.rootfs.diff_ids.length} diff_ids for ${manifest.layers.length} layers`
        )
      }
      if (!isIndex(top.mediaType) && opts.platform && !platformMatches(config, opts.platform)) {
        events.push({
          type: 'warning',
          message: `WARNING: image with reference ${familiarString(ref)} was found but its platform (${formatPlatform(config)}) does not match the specified platform (${formatPlatform(opts.platform)})`,
        })
      }
      const id = manifest.config.digest
      const existing = await deps.images.getImage(id)
      const complete = existing && (await allPresent(deps.blobs, manifest.layers))
      if (!complete) {
        await downloadLayers(manifest.layers, repo, deps, (e) => events.push(e), opts.signal)
      }
      const record = imageRecord(ref, top, chosen, manifest, config, existing)
      const tagRef = ref.digest ? undefined : `${canonicalName(ref)}:${ref.tag}`
      const previous = await commitImage(deps, record, tagRef, [top, chosen], manifest, repo, opts.signal)
      events.push({ type: 'digest', digest: top.digest })
      events.push({ type: 'done', upToDate: previous === id, reference: familiarString(ref), imageId: id })
      events.close()
    } catch (err) {
      events.close(err instanceof PullError ? err : toPullError(err, ref))
    }
  })()
  yield* events
  await done
}

/** Tag → top-level manifest or index, trying each endpoint as dockerd does. */
async function resolveTop(
  ref: Reference,
  deps: PullDeps,
  opts: PullOptions
): Promise<{ repo: RepositoryClient; top: Fetched; unsupported?: undefined } | { repo: RepositoryClient; top?: undefined; unsupported: UnsupportedManifestError }> {
  // An edge proxy must not become a way to reach arbitrary hosts: upstreams are allow-listed.
  if (ref.domain !== DOCKER_HUB && !deps.registries[ref.domain]) {
    throw new PullError(
      403,
      `registry ${ref.domain} is not allowed by this edgepull: add it to "registries" in the config`
    )
  }
  const endpoints = lookupPullEndpoints(ref.domain, deps.registries)
  const credentials = opts.credentials ?? configuredCredentials(ref.domain, deps.registries)
  let last: unknown = new PullError(500, `no endpoint for ${ref.domain}`)
  for (const [i, endpoint] of endpoints.entries()) {
    const repo = deps.registry.repository(endpoint, ref.path, { credentials })
    try {
      const top = await repo.manifest(ref.digest ?? ref.tag!, opts.signal)
      if (!isIndex(top.mediaType) && !isImageManifest(top.mediaType)) {
        throw new UnsupportedManifestError('media-type', top.mediaType, familiarString(ref))
      }
      return { repo, top: top as Fetched }
    } catch (err) {
      // dockerd reports these after `Pulling from`, in the stream.
      if (err instanceof UnsupportedManifestError) return { repo, unsupported: err }
      last = err
      if (opts.signal?.aborted || !shouldFallback(err, endpoint, endpoints[i + 1])) break
    }
  }
  throw toPullError(last, ref)
}

async function pickFromIndex(
  index: Fetched,
  repo: RepositoryClient,
  target: PlatformSpec,
  signal?: AbortSignal
): Promise<Fetched> {
  const parsed = IndexSchema.parse(JSON.parse(new TextDecoder().decode(index.bytes)))
  for (const desc of matchManifests(parsed.manifests as Descriptor[], target)) {
    if (isIndex(desc.mediaType)) return pickFromIndex(await repo.manifest(desc.digest, signal), repo, target, signal)
    if (!isImageManifest(desc.mediaType)) continue
    return (await repo.manifest(desc.digest, signal)) as Fetched
  }
  throw new PullError(404, `no matching manifest for ${formatPlatform(target)} in the manifest list entries`)
}

function parseManifest(m: Fetched, ref: Reference): ImageManifest {
  const parsed = ImageManifestSchema.safeParse(JSON.parse(new TextDecoder().decode(m.bytes)))
  if (!parsed.success) throw new PullError(500, `invalid manifest for ${familiarString(ref)}: ${parsed.error.message}`)
  const manifest = parsed.data as ImageManifest
  const configType = manifest.config.mediaType
  if (configType === 'application/vnd.docker.plugin.v1+json') {
    throw new PullError(400, `Encountered remote "${configType}"(plugin) when fetching`)
  }
  if (!isImageConfig(configType)) throw new PullError(400, `unsupported media type ${configType}`)
  for (const l of manifest.layers) {
    if (!isLayer(l.mediaType)) throw new PullError(400, `unsupported media type ${l.mediaType}`)
  }
  return manifest
}

async function fetchConfig(
  manifest: ImageManifest,
  repo: RepositoryClient,
  deps: PullDeps,
  signal?: AbortSignal
): Promise<ImageConfig> {
  const { digest, size } = manifest.config
  if (!isDigest(digest)) throw new PullError(400, `invalid config digest ${digest}`)
  if (!(await deps.blobs.stat(digest))) {
    await deps.fills.fetch(digest, blobSource(repo, digest, size), { signal })
  }
  const bytes = await deps.blobs.bytes(digest, MAX_MANIFEST)
  if (!bytes) throw new PullError(500, `config ${digest} vanished from the store`)
  return ImageConfigSchema.parse(JSON.parse(new TextDecoder().decode(bytes)))
}

/**
 * Records the image and moves the tag under the store lock that rmi, prune and eviction
 * take, after checking that every blob is still there: a layer that was `Already exists`
 * when the pull began may have been deleted since. Missing blobs are fetched again.
 */
async function commitImage(
  deps: PullDeps,
  record: ImageRecord,
  tagRef: string | undefined,
  manifests: Fetched[],
  manifest: ImageManifest,
  repo: RepositoryClient,
  signal?: AbortSignal
): Promise<Digest | null> {
  const needed = [manifest.config, ...manifest.layers]
  for (let attempt = 1; ; attempt++) {
    const missing = await exclusive(deps.images, async () => {
      const gone = await missingBlobs(deps.blobs, needed)
      if (gone.length) return gone
      for (const m of manifests) await deps.blobs.put(m.digest, m.bytes, m.bytes.byteLength, signal)
      await deps.images.putImage(record)
      return tagRef ? await deps.images.setTag(tagRef, record.id) : record.id
    })
    if (!Array.isArray(missing)) return missing
    if (attempt === 3) throw new PullError(500, `blobs keep disappearing from the store: ${missing.join(', ')}`)
    for (const d of missing) await deps.fills.fetch(d.digest, blobSource(repo, d.digest, d.size), { signal })
  }
}

async function missingBlobs(blobs: BlobStore, descs: Descriptor[]): Promise<Descriptor[]> {
  const out: Descriptor[] = []
  for (const d of descs) if (!(await blobs.stat(d.digest))) out.push(d)
  return out
}

async function allPresent(blobs: BlobStore, layers: Descriptor[]): Promise<boolean> {
  for (const l of layers) if (!(await blobs.stat(l.digest))) return false
  return true
}

function imageRecord(
  ref: Reference,
  top: Fetched,
  chosen: Fetched,
  manifest: ImageManifest,
  config: ImageConfig,
  existing: ImageRecord | null | undefined
): ImageRecord {
  const repoDigest = `${canonicalName(ref)}@${top.digest}`
  const repoDigests = [...new Set([...(existing?.repoDigests ?? []), repoDigest])]
  const diffIds = config.rootfs.diff_ids
  return {
    id: manifest.config.digest,
    manifest: { digest: chosen.digest, mediaType: chosen.mediaType, size: chosen.bytes.byteLength },
    index: top === chosen ? undefined : { digest: top.digest, mediaType: top.mediaType, size: top.bytes.byteLength },
    config: { size: manifest.config.size, mediaType: manifest.config.mediaType },
    platform: { os: config.os, architecture: config.architecture, variant: config.variant },
    layers: manifest.layers.map((l, i) => ({
      digest: l.digest,
      size: l.size,
      mediaType: l.mediaType,
      diffId: diffIds[i] as Digest,
    })),
    created: config.created ?? new Date(0).toISOString(),
    repoDigests,
    lastTagTime: existing?.lastTagTime,
  }
}
