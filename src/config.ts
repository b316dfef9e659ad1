/**
 * Configuration: an env record plus an optional JSON file, validated with zod. Nothing here
 * reads globals; runtime entries pass `process.env` (or bindings) and the file's text in.
 */
import { z } from 'zod'

const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })

export const RegistrySchema = z.strictObject({
  /** Where the registry is reached, overriding `https://<host>`. */
  endpoint: url.optional(),
  /** Pull mirrors tried first (docker.io only, as in dockerd). */
  mirrors: z.array(url).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
})
export type RegistryConfig = z.infer<typeof RegistrySchema>

/** One tag TTL rule of the mirror; the first rule that matches a repository and tag wins. */
export const TagTtlRuleSchema = z.strictObject({
  /**
   * Repository glob over `<registry>/<path>`: `*` stays within a path segment, `**` crosses
   * them. Without a registry host (`library/*`) it means docker.io, as references do.
   */
  pattern: z.string().min(1),
  /** Tag glob (`v*`); every tag when absent. */
  tag: z.string().min(1).optional(),
  /** How long a tag is served from the cache before it is revalidated upstream. */
  seconds: z.number().int().min(0),
})
export type TagTtlRule = z.infer<typeof TagTtlRuleSchema>

/** The /v2 pull-through mirror. */
export const MirrorSchema = z.strictObject({
  /**
   * Seconds a tag is served from the cache before a HEAD upstream revalidates it (default
   * 300). Manifests by digest never expire. A tag upstream cannot confirm (down, 5xx, 429)
   * is served stale with a `Warning: 110` header.
   */
  tagTtlSeconds: z.number().int().min(0).default(300),
  /** Per-repository (and per-tag) TTLs, e.g. `{"pattern": "library/*", "seconds": 60}`. */
  tagTtl: z.array(TagTtlRuleSchema).default([]),
  /**
   * Size budget of the whole blob store, in bytes or as `"50GiB"`/`"500MB"`. Beyond it the
   * least recently used mirror content is evicted (Engine API images never are). No eviction
   * while unset.
   */
  maxBytes: z
    .union([z.number().int().min(0), z.string()])
    .transform((v, ctx) => {
      const n = typeof v === 'number' ? v : parseByteSize(v)
      const message = 'must be bytes or like "50GiB"'
      if (n === undefined) ctx.addIssue({ code: 'custom', message })
      return n ?? 0
    })
    .optional(),
  /**
   * Blobs written or read within this many seconds are never evicted (default 600), so an
   * Engine API pull still writing its layers keeps them until its image record exists.
   */
  evictionGraceSeconds: z.number().int().min(0).optional(),
})
export type MirrorConfig = z.infer<typeof MirrorSchema>

/** How edgepull talks to upstream registries (timeouts, and which private hosts it may reach). */
export const UpstreamSchema = z.strictObject({})
export type UpstreamConfig = z.infer<typeof UpstreamSchema>

/** Size caps on what callers send. */
export const LimitsSchema = z.strictObject({})
export type LimitsConfig = z.infer<typeof LimitsSchema>

export const FileConfigSchema = z.strictObject({
  registries: z.record(z.string().min(1), RegistrySchema).default({}),
  platform: z
    .string()
    .regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, 'must look like os/arch[/variant]')
    .default('linux/amd64'),
  /** Concurrent layer downloads per pull (dockerd's max-concurrent-downloads). */
  maxConcurrentDownloads: z.number().int().min(1).max(64).default(3),
  mirror: MirrorSchema.default({ tagTtlSeconds: 300, tagTtl: [] }),
  upstream: UpstreamSchema.default({}),
  limits: LimitsSchema.default({}),
  /**
   * Bearer token for `/admin/*` (tag refresh and purge); the admin routes answer 404 while it
   * is unset.
   */
  adminToken: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * Seals the /v2 bearer tokens (AES-GCM) that carry callers' registry credentials. Unset, a
   * random per-process secret: a restart makes clients log in again, and instances behind one
   * address (Workers isolates) refuse each other's tokens, so set it there.
   */
  tokenSecret: z.string().min(32, 'must be at least 32 characters').optional(),
})
export type FileConfig = z.infer<typeof FileConfigSchema>

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(5000),
  HOST: z.string().min(1).default('127.0.0.1'),
  EDGEPULL_DATA: z.string().min(1).default('./data'),
  EDGEPULL_CONFIG: z.string().min(1).optional(),
  /** Overrides the file's `tokenSecret`: secrets belong in the environment. */
  EDGEPULL_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
})

export interface Config extends FileConfig {
  port: number
  host: string
  dataDir: string
  configPath?: string
}

const BYTE_UNITS: Record<string, number> = {
  '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
}

/** `"50GiB"`, `"500 MB"`, `"1024"` → bytes; undefined when it is none of these. */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined
  if (!m || unit === undefined) return undefined
  const n = Math.floor(Number(m[1]) * unit)
  return Number.isSafeInteger(n) ? n : undefined
}

export const DOCKER_HUB = 'docker.io'
export const DOCKER_HUB_ENDPOINT = 'https://registry-1.docker.io'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** `registries.docker.io.endpoint: must be an http(s) URL` — each issue names its field. */
function describe(source: string, error: z.ZodError): ConfigError {
  const lines = error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
  return new ConfigError(`invalid configuration in ${source}:\n${lines.join('\n')}`)
}

/** Parses the JSON config file's text (`source` names it in errors). */
export function parseFileConfig(text: string, source = 'config'): FileConfig {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new ConfigError(`invalid configuration in ${source}: not JSON: ${(e as Error).message}`)
  }
  const parsed = FileConfigSchema.safeParse(json)
  if (!parsed.success) throw describe(source, parsed.error)
  const registries = { ...parsed.data.registries }
  if (registries['index.docker.io']) {
    registries[DOCKER_HUB] = { ...registries['index.docker.io'], ...registries[DOCKER_HUB] }
    delete registries['index.docker.io']
  }
  return { ...parsed.data, registries }
}

/** Builds the whole config from the environment and, when EDGEPULL_CONFIG is set, that file. */
export function loadConfig(
  env: Record<string, string | undefined>,
  readFile: (path: string) => string
): Config {
  const parsed = EnvSchema.safeParse(env)
  if (!parsed.success) throw describe('the environment', parsed.error)
  const { PORT, HOST, EDGEPULL_DATA, EDGEPULL_CONFIG, EDGEPULL_TOKEN_SECRET } = parsed.data
  let file: FileConfig = parseFileConfig('{}')
  if (EDGEPULL_CONFIG) {
    let text: string
    try {
      text = readFile(EDGEPULL_CONFIG)
    } catch (e) {
      throw new ConfigError(`cannot read EDGEPULL_CONFIG ${EDGEPULL_CONFIG}: ${(e as Error).message}`)
    }
    file = parseFileConfig(text, EDGEPULL_CONFIG)
  }
  if (EDGEPULL_TOKEN_SECRET) file = { ...file, tokenSecret: EDGEPULL_TOKEN_SECRET }
  return { ...file, port: PORT, host: HOST, dataDir: EDGEPULL_DATA, configPath: EDGEPULL_CONFIG }
}
