/**
 * Docker's pull, as dockerd's V2 puller does it: resolve the tag on the first endpoint that
 * answers (mirrors first for docker.io), pick the platform from an index, fetch the config,
 * download missing layers with bounded concurrency (shared with concurrent pulls of the same
 * blob), and only then record the image and move the tag. Everything lands in the store
 * verified; an interrupted pull leaves only whole, verified blobs behind.
 */
import type { RegistryConfig } from '../config.ts'
import { isDigest } from '../oci/digest.ts'
import { ImageConfigSchema, type ImageConfig, type ImageManifest } from '../oci/manifest.ts'
import { isIndex } from '../oci/media-types.ts'
import { formatPlatform, platformMatches, type PlatformSpec } from '../oci/platform.ts'
import { canonicalName, familiarString, type Reference } from '../oci/reference.ts'
import type { Credentials } from '../registry/auth/credentials.ts'
import type { RegistryClient, RepositoryClient } from '../registry/client.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageStore } from '../storage/images.ts'
import { lease } from '../storage/lock.ts'
import { Channel } from './channel.ts'
import { PullError, toPullError } from './errors.ts'
import type { PullEvent } from './events.ts'
import type { Fills } from './fills.ts'
import { blobSource, downloadLayers } from './layers.ts'
import { commitImage, imageRecord, missingBlobs } from './record.ts'
import { parseManifest, pickFromIndex, resolveTop } from './resolve.ts'

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
  let release = () => {}
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
      release = lease(deps.blobs, [top.digest, chosen.digest, id, ...manifest.layers.map((l) => l.digest)])
      const existing = await deps.images.getImage(id)
      const complete = existing && (await missingBlobs(deps.blobs, manifest.layers)).length === 0
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
    } finally {
      release()
    }
  })()
  yield* events
  await done
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

