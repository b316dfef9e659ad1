/**
 * Docker's push (dockerd's V2 pusher): to the registry itself (never a mirror), allow-listed
 * registries only, with a `push,pull` token. Per tag: layers, then the config, then the
 * stored manifest bytes as they are (so its digest, and the image's RepoDigest, stay the
 * ones the store knows), then `repo@digest` is recorded. Without a tag, every local tag of
 * the repository is pushed in turn.
 */
import { DOCKER_HUB, type RegistryConfig } from '../config.ts'
import type { Digest } from '../oci/digest.ts'
import { platformMatches, formatPlatform, type PlatformSpec } from '../oci/platform.ts'
import {
  canonicalName,
  familiarName,
  parseNormalizedNamed,
  type Reference,
} from '../oci/reference.ts'
import type { Credentials } from '../registry/auth/credentials.ts'
import type { RegistryClient, RepositoryClient } from '../registry/client.ts'
import {
  configuredCredentials,
  lookupPullEndpoints,
  shouldFallback,
} from '../registry/endpoints.ts'
import { RegistryError } from '../registry/errors.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageRecord, ImageStore } from '../storage/images.ts'
import { Channel } from '../pull/channel.ts'
import { ImageError } from '../images/errors.ts'
import { addRepoDigest } from '../images/write.ts'
import type { PushEvent } from './events.ts'
import { pushBlob, pushLayers, type BlobPush } from './layers.ts'

export interface PushDeps {
  registry: RegistryClient
  blobs: BlobStore
  images: ImageStore
  registries: Record<string, RegistryConfig>
}

export interface PushOptions {
  /** From X-Registry-Auth; the config's credentials for the registry otherwise. */
  credentials?: Credentials
  /** Only push an image of this platform (API ≥ 1.46). */
  platform?: PlatformSpec
  /** Upload chunk size (see UploadOptions.chunkSize). */
  chunkSize?: number
  signal?: AbortSignal
}

const MAX_MANIFEST = 4 << 20

/**
 * Pushes `ref` (a tag, or a bare name for every tag). An unlisted registry is refused before
 * the first event (ImageError 403); everything after `The push refers to` fails in the stream.
 */
export async function* pushImage(
  ref: Reference,
  deps: PushDeps,
  opts: PushOptions = {}
): AsyncGenerator<PushEvent> {
  // An edge proxy must not become a way to write to arbitrary hosts.
  if (ref.domain !== DOCKER_HUB && !deps.registries[ref.domain]) {
    throw new ImageError(
      403,
      `registry ${ref.domain} is not allowed by this edgepull: add it to "registries" in the config`
    )
  }
  const name = canonicalName(ref)
  yield { type: 'start', repository: name }
  if (ref.digest) throw new ImageError(400, 'cannot push a digest reference')
  const tags = await localTags(deps.images, name)
  const missing = `An image does not exist locally with the tag: ${familiarName(ref)}`
  if (tags.size === 0) throw new ImageError(404, missing)
  let todo: [string, Digest][]
  if (ref.tag) {
    const id = tags.get(ref.tag)
    if (!id) throw new ImageError(404, `tag does not exist: ${familiarName(ref)}:${ref.tag}`)
    todo = [[ref.tag, id]]
  } else {
    todo = [...tags].sort(([a], [b]) => (a < b ? -1 : 1))
  }

  const events = new Channel<PushEvent>()
  const done = (async () => {
    try {
      const credentials = opts.credentials ?? configuredCredentials(ref.domain, deps.registries)
      const repo = await connect(ref, deps, credentials, todo[0]![1], opts.signal)
      const sources = await mountSources(deps.images, ref)
      const p: BlobPush = {
        repo,
        blobs: deps.blobs,
        mountSources: (d) => sources.get(d) ?? [],
        chunkSize: opts.chunkSize,
        signal: opts.signal,
      }
      for (const [tag, id] of todo) {
        const image = await deps.images.getImage(id)
        if (!image) throw new ImageError(404, missing)
        if (opts.platform && !platformMatches(image.platform, opts.platform)) {
          const has = formatPlatform(image.platform)
          const want = formatPlatform(opts.platform)
          throw new ImageError(404, `image ${familiarName(ref)}:${tag} is ${has}, not ${want}`)
        }
        await pushLayers(p, image.layers, (e) => events.push(e))
        await pushBlob(p, { digest: image.id, size: image.config.size })
        const { digest, size } = await pushManifest(repo, deps.blobs, image, tag, opts.signal)
        await addRepoDigest(deps.images, image.id, `${name}@${digest}`)
        events.push({ type: 'tag', tag, digest, size })
      }
      events.close()
    } catch (err) {
      events.close(toPushError(err))
    }
  })()
  yield* events
  await done
}

/** The repository's local tags: tag → image ID. */
async function localTags(images: ImageStore, name: string): Promise<Map<string, Digest>> {
  const tags = new Map<string, Digest>()
  for await (const { ref, id } of images.listTags()) {
    if (ref.startsWith(`${name}:`) && !ref.includes('@')) tags.set(ref.slice(name.length + 1), id)
  }
  return tags
}

/** The first push endpoint that answers (https, then http for loopback hosts). */
async function connect(
  ref: Reference,
  deps: PushDeps,
  credentials: Credentials | undefined,
  probe: Digest,
  signal?: AbortSignal
): Promise<RepositoryClient> {
  const endpoints = lookupPullEndpoints(ref.domain, deps.registries).filter((e) => !e.mirror)
  let last: unknown
  for (const [i, endpoint] of endpoints.entries()) {
    const repo = deps.registry.repository(endpoint, ref.path, {
      credentials,
      actions: ['push', 'pull'],
    })
    try {
      await repo.hasBlob(probe, signal)
      return repo
    } catch (err) {
      last = err
      if (signal?.aborted || !shouldFallback(err, endpoint, endpoints[i + 1])) break
    }
  }
  throw last
}

/**
 * Where each blob can be mounted from: other repositories of the same registry that images
 * holding it were pulled from or pushed to (their RepoDigests).
 */
async function mountSources(images: ImageStore, ref: Reference): Promise<Map<Digest, string[]>> {
  const out = new Map<Digest, string[]>()
  for await (const image of images.listImages()) {
    const paths = image.repoDigests.flatMap((rd) => {
      try {
        const r = parseNormalizedNamed(rd)
        return r.domain === ref.domain && r.path !== ref.path ? [r.path] : []
      } catch {
        return []
      }
    })
    for (const d of [image.id, ...image.layers.map((l) => l.digest)]) {
      const list = out.get(d) ?? []
      for (const path of paths) if (!list.includes(path)) list.push(path)
      out.set(d, list)
    }
  }
  return out
}

async function pushManifest(
  repo: RepositoryClient,
  blobs: BlobStore,
  image: ImageRecord,
  tag: string,
  signal?: AbortSignal
): Promise<{ digest: Digest; size: number }> {
  const bytes = await blobs.bytes(image.manifest.digest, MAX_MANIFEST)
  if (!bytes) {
    throw new ImageError(500, `manifest ${image.manifest.digest} is missing from the local store`)
  }
  const digest = await repo.putManifest(tag, bytes, image.manifest.mediaType, signal)
  return { digest, size: bytes.byteLength }
}

/** Registry failures as dockerd words them (`denied: …`, `unauthorized: …`). */
function toPushError(err: unknown): unknown {
  if (err instanceof RegistryError) {
    return new ImageError(err.code === 'DENIED' ? 403 : 500, err.dockerText(), { cause: err })
  }
  return err
}
