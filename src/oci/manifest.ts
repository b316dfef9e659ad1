/**
 * Manifests, indexes and image configs as zod schemas. Parsing is lenient about fields
 * we do not use (registries add annotations, artifactType, subject…), strict about the
 * ones the pull pipeline relies on.
 */
import { z } from 'zod'
import { isDigest, type Digest } from './digest.ts'

/** A sha256 digest; other algorithms cannot be verified here and are refused. */
export const DigestSchema = z.custom<Digest>(
  (v) => typeof v === 'string' && isDigest(v),
  'unsupported or invalid digest'
)

export const PlatformSchema = z.object({
  architecture: z.string(),
  os: z.string(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
  features: z.array(z.string()).optional(),
})
export type Platform = z.infer<typeof PlatformSchema>

export const DescriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest: DigestSchema,
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  platform: PlatformSchema.optional(),
  artifactType: z.string().optional(),
})
export type Descriptor = z.infer<typeof DescriptorSchema>

export const ImageManifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema),
  annotations: z.record(z.string(), z.string()).optional(),
})
export type ImageManifest = z.infer<typeof ImageManifestSchema>

export const IndexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(DescriptorSchema),
  annotations: z.record(z.string(), z.string()).optional(),
})
export type ImageIndex = z.infer<typeof IndexSchema>

const HistorySchema = z.looseObject({
  created: z.string().optional(),
  created_by: z.string().optional(),
  author: z.string().optional(),
  comment: z.string().optional(),
  empty_layer: z.boolean().optional(),
})
export type HistoryEntry = z.infer<typeof HistorySchema>

/** The runtime config inside an image config (`config` key), Docker field names. */
export const ContainerConfigSchema = z.looseObject({
  User: z.string().optional(),
  ExposedPorts: z.record(z.string(), z.object({})).nullish(),
  Env: z.array(z.string()).nullish(),
  Entrypoint: z.array(z.string()).nullish(),
  Cmd: z.array(z.string()).nullish(),
  Volumes: z.record(z.string(), z.object({})).nullish(),
  WorkingDir: z.string().optional(),
  Labels: z.record(z.string(), z.string()).nullish(),
  StopSignal: z.string().optional(),
  ArgsEscaped: z.boolean().optional(),
  OnBuild: z.array(z.string()).nullish(),
  Shell: z.array(z.string()).nullish(),
  Healthcheck: z.unknown().optional(),
})
export type ContainerConfig = z.infer<typeof ContainerConfigSchema>

export const ImageConfigSchema = z.looseObject({
  created: z.string().optional(),
  author: z.string().optional(),
  architecture: z.string(),
  os: z.string(),
  variant: z.string().optional(),
  'os.version': z.string().optional(),
  config: ContainerConfigSchema.optional(),
  rootfs: z.object({ type: z.string(), diff_ids: z.array(z.string()) }),
  history: z.array(HistorySchema).optional(),
})
export type ImageConfig = z.infer<typeof ImageConfigSchema>

/** Peeks at `mediaType` (and the schema-1 shape) without validating the rest. */
export function sniffMediaType(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined
  const o = json as Record<string, unknown>
  if (typeof o.mediaType === 'string') return o.mediaType
  if (o.schemaVersion === 1) return 'application/vnd.docker.distribution.manifest.v1+json'
  if (Array.isArray(o.manifests)) return 'application/vnd.oci.image.index.v1+json'
  if (o.config && Array.isArray(o.layers)) return 'application/vnd.oci.image.manifest.v1+json'
  return undefined
}
