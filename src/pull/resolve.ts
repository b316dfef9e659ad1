/**
 * From a reference to the manifest a pull installs: the first endpoint that answers (as
 * dockerd's LookupPullEndpoints orders them), then the platform's entry of an index.
 */
import { DOCKER_HUB } from '../config.ts'
import type { Digest } from '../oci/digest.ts'
import { ImageManifestSchema, IndexSchema, type Descriptor, type ImageManifest } from '../oci/manifest.ts'
import { isImageConfig, isImageManifest, isIndex, isLayer } from '../oci/media-types.ts'
import { formatPlatform, matchManifests, type PlatformSpec } from '../oci/platform.ts'
import { familiarString, type Reference } from '../oci/reference.ts'
import type { RepositoryClient } from '../registry/client.ts'
import { configuredCredentials, lookupPullEndpoints, shouldFallback } from '../registry/endpoints.ts'
import { UnsupportedManifestError } from '../registry/errors.ts'
import { PullError, toPullError } from './errors.ts'
import type { PullDeps, PullOptions } from './pull.ts'

/** A manifest or index as fetched: its exact bytes, digest and media type. */
export interface Fetched {
  bytes: Uint8Array
  digest: Digest
  mediaType: string
}

export type Resolved =
  | { repo: RepositoryClient; top: Fetched; unsupported?: undefined }
  | { repo: RepositoryClient; top?: undefined; unsupported: UnsupportedManifestError }

/** Tag → top-level manifest or index, trying each endpoint as dockerd does. */
export async function resolveTop(
  ref: Reference,
  deps: PullDeps,
  opts: PullOptions
): Promise<Resolved> {
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

export async function pickFromIndex(
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

export function parseManifest(m: Fetched, ref: Reference): ImageManifest {
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
