/**
 * `docker commit`, for a proxy without containers: the "container" is a source image. The new
 * image keeps its layers (no layer is added, so the history entry is an empty layer) and gets
 * a runtime config built as moby's CreateImageFromContainer does: the request's config (or the
 * source's), `changes` applied, then gaps filled from the source config (daemon/commit.go merge).
 */
import type { ContainerConfig } from '../oci/manifest.ts'
import type { BlobStore } from '../storage/blobs.ts'
import type { ImageRecord, ImageStore } from '../storage/images.ts'
import { applyChanges } from './changes.ts'
import { ImageError } from './errors.ts'
import { writeImage } from './write.ts'

/** What the request asks the new image to be. */
export interface CommitOptions {
  /** The request body's ContainerConfig; null when none was sent. */
  config: Record<string, unknown> | null
  changes: readonly string[]
  author?: string
  comment?: string
}

// The ContainerConfig fields an image config keeps; Hostname, Tty, Image… belong to containers.
const IMAGE_FIELDS = [
  'User',
  'ExposedPorts',
  'Env',
  'Cmd',
  'Healthcheck',
  'ArgsEscaped',
  'Volumes',
  'WorkingDir',
  'Entrypoint',
  'OnBuild',
  'Labels',
  'StopSignal',
  'Shell',
] as const

const MAX_JSON = 4 << 20

/** Writes the new image and returns its record (untagged: tagging is the caller's). */
export async function commitImage(
  deps: { blobs: BlobStore; images: ImageStore },
  source: ImageRecord,
  opts: CommitOptions
): Promise<ImageRecord> {
  const parent = await readJson(deps.blobs, source.id, 'config')
  const base = (parent.config ?? {}) as ContainerConfig
  const requested = opts.config ? imageFields(opts.config) : base
  const runtime = merge(applyChanges(requested, opts.changes), base)
  const created = new Date().toISOString()
  const entry = {
    created,
    ...(opts.author ? { author: opts.author } : {}),
    created_by: (base.Cmd ?? []).join(' '),
    ...(opts.comment ? { comment: opts.comment } : {}),
    empty_layer: true,
  }
  const { container: _c, container_config: _cc, comment: _m, author: _a, ...kept } = parent
  const config = {
    ...kept,
    os: String(parent.os),
    architecture: String(parent.architecture),
    created,
    ...(opts.author ? { author: opts.author } : {}),
    ...(opts.comment ? { comment: opts.comment } : {}),
    config: runtime,
    history: [...((parent.history as unknown[] | undefined) ?? []), entry],
  }
  // Annotations and the like carry over; a manifest gone missing only loses those.
  const manifest: Record<string, unknown> = await readJson(
    deps.blobs,
    source.manifest.digest,
    'manifest'
  ).catch(() => ({}))
  const { schemaVersion: _s, mediaType: _t, config: _d, layers: _l, ...manifestExtras } = manifest
  return writeImage(deps.blobs, deps.images, {
    config: config as typeof config & { variant?: string },
    layers: source.layers,
    manifestMediaType: source.manifest.mediaType,
    configMediaType: source.config.mediaType,
    manifestExtras,
  })
}

async function readJson(blobs: BlobStore, digest: ImageRecord['id'], what: string) {
  const bytes = await blobs.bytes(digest, MAX_JSON)
  if (!bytes) throw new ImageError(500, `the ${what} ${digest} is missing from the store`)
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
}

function imageFields(body: Record<string, unknown>): ContainerConfig {
  const out: Record<string, unknown> = {}
  for (const k of IMAGE_FIELDS) if (body[k] !== undefined) out[k] = body[k]
  return out as ContainerConfig
}

/** Fills what `user` leaves empty from `image` (moby's daemon/commit.go merge). */
function merge(user: ContainerConfig, image: ContainerConfig): ContainerConfig {
  const c: ContainerConfig = { ...user }
  if (!c.User) c.User = image.User
  const empty = (o: object | null | undefined) => !o || Object.keys(o).length === 0
  if (empty(c.ExposedPorts)) c.ExposedPorts = image.ExposedPorts
  else c.ExposedPorts = { ...image.ExposedPorts, ...c.ExposedPorts }
  if (!c.Env?.length) c.Env = image.Env
  else {
    const keys = new Set(c.Env.map((e) => e.split('=', 1)[0]))
    c.Env = [...c.Env, ...(image.Env ?? []).filter((e) => !keys.has(e.split('=', 1)[0]))]
  }
  c.Labels = { ...image.Labels, ...c.Labels }
  if (!c.Entrypoint?.length) {
    if (!c.Cmd?.length) {
      c.Cmd = image.Cmd
      c.ArgsEscaped = image.ArgsEscaped
    }
    if (c.Entrypoint == null) c.Entrypoint = image.Entrypoint
  }
  if (c.Healthcheck === undefined) c.Healthcheck = image.Healthcheck
  if (!c.WorkingDir) c.WorkingDir = image.WorkingDir
  if (empty(c.Volumes)) c.Volumes = image.Volumes
  else c.Volumes = { ...image.Volumes, ...c.Volumes }
  if (!c.StopSignal) c.StopSignal = image.StopSignal
  // undefined keys would vanish from the JSON anyway; dropping them keeps the object tidy
  for (const k of Object.keys(c) as (keyof ContainerConfig)[]) if (c[k] === undefined) delete c[k]
  return c
}
