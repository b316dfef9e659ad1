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

/** Bytes as a number or a string like `"10GiB"`, `"500MB"` (see parseByteSize). */
const byteSize = z.union([z.number().int().min(0), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : parseByteSize(v)
  if (n === undefined) ctx.addIssue({ code: 'custom', message: 'must be bytes or like "50GiB"' })
  return n ?? 0
})

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
  maxBytes: byteSize.optional(),
  /**
   * Blobs written or read within this many seconds are never evicted (default 600), so an
   * Engine API pull still writing its layers keeps them until its image record exists.
   */
  evictionGraceSeconds: z.number().int().min(0).optional(),
})
export type MirrorConfig = z.infer<typeof MirrorSchema>

const PRIVATE_HOST_ERROR = 'must be a hostname, an IP address or a CIDR like 10.0.0.0/8'

/** A hostname, an address, or a CIDR whose prefix length fits its family. */
function isHostOrCidr(entry: string): boolean {
  const cidr = /^([0-9.]+|\[?[0-9a-f:.]+\]?)\/(\d{1,3})$/i.exec(entry)
  if (cidr) return Number(cidr[2]) <= (cidr[1]!.includes(':') ? 128 : 32)
  return /^(\[[0-9a-f:.]+\]|[0-9a-f:]*:[0-9a-f:.]*|[0-9a-z_.-]+)$/i.test(entry)
}

/** How edgepull talks to upstream registries (timeouts, and which private hosts it may reach). */
export const UpstreamSchema = z.strictObject({
  /**
   * Seconds to wait for an upstream's response headers before the request is dropped and
   * retried (default 30; 0: no limit). Uploads are exempt.
   */
  headersTimeoutSeconds: z.number().min(0).optional(),
  /**
   * Seconds an upstream body may send nothing before the download is dropped and resumed
   * with Range (default 60; 0: no limit).
   */
  idleTimeoutSeconds: z.number().min(0).optional(),
  /**
   * Hosts edgepull may connect to although they are loopback, private, link-local… (no
   * SSRF): hostnames, addresses or CIDRs (`"10.0.0.0/8"`). The registries' own hosts are
   * always allowed; this is for their token services, blob storage and import URLs.
   */
  privateHosts: z.array(z.string().refine(isHostOrCidr, PRIVATE_HOST_ERROR)).optional(),
})
export type UpstreamConfig = z.infer<typeof UpstreamSchema>

/** Size caps on what callers send; beyond them a request is answered 413. */
export const LimitsSchema = z.strictObject({
  /**
   * Largest `docker load` and `docker import` body (default `"64GiB"`), counted as it streams
   * in. A gzip body may not unpack to more either, nor may any entry of the archive claim to.
   */
  bodyBytes: byteSize.default(64 * 2 ** 30),
  /** Largest JSON request body, e.g. `docker commit`'s config (default `"1MiB"`). */
  jsonBytes: byteSize.default(2 ** 20),
  /**
   * How many times its own size a gzip body may unpack to, once past 64 MiB unpacked
   * (default 100; real archives stay under 10). Refuses gzip bombs early.
   */
  gzipRatio: z.number().min(1).default(100),
})
export type LimitsConfig = z.infer<typeof LimitsSchema>

/** A token bucket per client: `burst` requests at once, refilled at `requestsPerSecond`. */
export const RateLimitSchema = z.strictObject({
  requestsPerSecond: z.number().positive(),
  burst: z.number().int().min(1),
})
export type RateLimitConfig = z.infer<typeof RateLimitSchema>

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
  // prefault: the defaults inside apply when the section is absent.
  limits: LimitsSchema.prefault({}),
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
  /**
   * Bearer token every write route (pull, import, load, push, tag, delete, prune, commit,
   * /admin) requires. Listening beyond loopback, write routes refuse everyone without it.
   */
  writeToken: z.string().min(16, 'must be at least 16 characters').optional(),
  /** A public mirror: every write route (and /admin) answers 403; /v2 still fills its cache. */
  readOnly: z.boolean().default(false),
  /** Requests each client may make: a token bucket per client address. Unlimited when unset. */
  rateLimit: RateLimitSchema.optional(),
  /**
   * Behind a reverse proxy: the client is the last address of X-Forwarded-For (the one the
   * proxy saw), not the connection's peer, which is the proxy.
   */
  trustProxy: z.boolean().default(false),
})
export type FileConfig = z.infer<typeof FileConfigSchema>

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(5000),
  HOST: z.string().min(1).default('127.0.0.1'),
  EDGEPULL_DATA: z.string().min(1).default('./data'),
  EDGEPULL_CONFIG: z.string().min(1).optional(),
  /** Overrides the file's `tokenSecret`: secrets belong in the environment. */
  EDGEPULL_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Overrides the file's `writeToken`. */
  EDGEPULL_WRITE_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
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
  const { PORT, HOST, EDGEPULL_DATA, EDGEPULL_CONFIG, EDGEPULL_TOKEN_SECRET, EDGEPULL_WRITE_TOKEN } =
    parsed.data
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
  if (EDGEPULL_WRITE_TOKEN) file = { ...file, writeToken: EDGEPULL_WRITE_TOKEN }
  return { ...file, port: PORT, host: HOST, dataDir: EDGEPULL_DATA, configPath: EDGEPULL_CONFIG }
}
