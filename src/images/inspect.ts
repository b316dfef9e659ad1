/**
 * GET /images/{name}/json: moby's graphdriver ImageInspect plus the router's compatibility
 * fields, with keys in the order moby writes them (`docker image inspect` prints the raw
 * JSON). The route picks the Shape from the request's API version.
 */
import type { PlatformSpec } from '../oci/platform.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageRecord, ImageStore } from '../storage/images.ts'
import { createdOf, loadConfig, type ConfigJson } from './config.ts'
import { noSuchImage } from './errors.ts'
import { referencesOf, type ImageRef } from './references.ts'
import { resolveImage } from './resolve.ts'
import { ZERO_TIME } from './time.ts'

/** What an inspect is built from. */
export interface InspectData {
  image: ImageRecord
  config: ConfigJson
  refs: ImageRef[]
}

/** Resolves `name` (for `platform`, when given) and loads what inspect reports. */
export async function inspectImage(
  deps: { images: ImageStore; blobs: BlobStore },
  name: string,
  platform?: PlatformSpec
): Promise<InspectData> {
  const { image } = await resolveImage(deps.images, name, { platform })
  const config = await loadConfig(deps.blobs, image.id)
  if (!config) throw noSuchImage(name) // deleted while we looked
  return { image, config, refs: await referencesOf(deps.images, image) }
}

/** How the response differs between API versions. */
export interface Shape {
  /** Below 1.50 Config also has the empty container-config fields. */
  legacyConfig: 'v1.49' | 'v1.50'
  /** Below 1.45: `Container` and `ContainerConfig`. */
  containerFields: boolean
  /** Below 1.44: `VirtualSize`, and a zero `Created` rather than none. */
  virtualSize: boolean
}

// Always written by moby 28.3+ at API ≤ 1.51, as null or "" when the image has none.
const LEGACY_CONFIG: Record<Shape['legacyConfig'], Record<string, unknown>> = {
  'v1.49': {
    AttachStderr: false,
    AttachStdin: false,
    AttachStdout: false,
    Cmd: null,
    Domainname: '',
    Entrypoint: null,
    Env: null,
    Hostname: '',
    Image: '',
    Labels: null,
    OnBuild: null,
    OpenStdin: false,
    StdinOnce: false,
    Tty: false,
    User: '',
    Volumes: null,
    WorkingDir: '',
  },
  'v1.50': {
    Cmd: null,
    Entrypoint: null,
    Env: null,
    Labels: null,
    OnBuild: null,
    User: '',
    Volumes: null,
    WorkingDir: '',
  },
}

// The image config fields moby's DockerOCIImageConfig knows; others are dropped, as Go does.
const CONFIG_FIELDS = [
  'User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels',
  'StopSignal', 'ArgsEscaped', 'Healthcheck', 'OnBuild', 'Shell',
]

/** The ImageInspect object for `shape`. */
export function inspectResponse(
  { image, config, refs }: InspectData,
  shape: Shape
): Record<string, unknown> {
  const created = createdOf(config)?.rfc3339Nano ?? (shape.virtualSize ? ZERO_TIME : undefined)
  const size = image.layers.reduce((n, l) => n + l.size, 0) // compressed: all we know
  const diffIds = config.rootfs?.diff_ids ?? image.layers.map((l) => l.diffId)
  return {
    Id: image.id,
    RepoTags: refs.filter((r) => r.tagged).map((r) => r.familiar),
    RepoDigests: refs.filter((r) => !r.tagged).map((r) => r.familiar),
    Parent: '',
    Comment: config.comment || config.history?.at(-1)?.comment || '',
    ...(created !== undefined && { Created: created }),
    ...(shape.containerFields && {
      Container: config.container ?? '',
      ContainerConfig: containerConfig(config.container_config),
    }),
    DockerVersion: config.docker_version ?? '',
    Author: config.author ?? '',
    Config: imageConfig(config.config, shape.legacyConfig),
    Architecture: config.architecture ?? '',
    ...(config.variant && { Variant: config.variant }),
    Os: config.os || 'linux',
    ...(config['os.version'] && { OsVersion: config['os.version'] }),
    Size: size,
    ...(shape.virtualSize && { VirtualSize: size }),
    // No graph driver unpacks layers here; Data null is what Docker sends without details.
    GraphDriver: { Data: null, Name: 'edgepull' },
    RootFS: {
      Type: config.rootfs?.type ?? 'layers',
      ...(diffIds.length > 0 && { Layers: diffIds }),
    },
    Metadata: { LastTagTime: image.lastTagTime ?? ZERO_TIME },
  }
}

/** The legacy defaults overlaid with the fields Go keeps, keys sorted as a Go map marshals. */
function imageConfig(
  src: Record<string, unknown> | null | undefined,
  legacy: Shape['legacyConfig']
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...LEGACY_CONFIG[legacy] }
  for (const key of CONFIG_FIELDS) {
    const value = src?.[key]
    if (!isEmpty(value) || (key === 'Healthcheck' && value)) merged[key] = value
  }
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : 1)))
}

/** Go's omitempty: false, "", null, and empty arrays and objects are left out. */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '') return true
  if (Array.isArray(v)) return v.length === 0
  return typeof v === 'object' && Object.keys(v).length === 0
}

/** container.Config as Go writes it (pre-1.45 `ContainerConfig`), from the config's own or zero. */
function containerConfig(src: Record<string, unknown> | null | undefined) {
  const c = src ?? {}
  const pick = (key: string, zero: unknown, omitEmpty = false) =>
    omitEmpty && isEmpty(c[key]) ? {} : { [key]: c[key] ?? zero }
  return {
    ...pick('Hostname', ''),
    ...pick('Domainname', ''),
    ...pick('User', ''),
    ...pick('AttachStdin', false),
    ...pick('AttachStdout', false),
    ...pick('AttachStderr', false),
    ...pick('ExposedPorts', null, true),
    ...pick('Tty', false),
    ...pick('OpenStdin', false),
    ...pick('StdinOnce', false),
    ...pick('Env', null),
    ...pick('Cmd', null),
    ...pick('Healthcheck', null, true),
    ...pick('ArgsEscaped', false, true),
    ...pick('Image', ''),
    ...pick('Volumes', null),
    ...pick('WorkingDir', ''),
    ...pick('Entrypoint', null),
    ...pick('OnBuild', null),
    ...pick('Labels', null),
    ...pick('StopSignal', '', true),
    ...pick('Shell', null, true),
  }
}
