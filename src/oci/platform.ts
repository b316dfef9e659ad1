/**
 * Platforms as Docker handles them: the `--platform` string (containerd's platforms.Parse),
 * the JSON form of the other Engine routes (moby's DecodePlatform), normalisation, and the
 * ordered choice of manifests from an index (containerd's platforms.Only, moby's
 * filterManifests). See ../shared/reference/image-api-notes.md §7.5.
 */
import type { Platform } from './manifest.ts'

/** A target platform: what a client asked for, or the default. */
export type PlatformSpec = { os: string; architecture: string; variant?: string }

/** The platform assumed when a request names none; stands in for containerd's "host". */
export const DEFAULT_PLATFORM: Readonly<PlatformSpec> = Object.freeze({
  os: 'linux',
  architecture: 'amd64',
})

/** A platform string or JSON that Docker would reject with 400. */
export class PlatformError extends Error {
  override name = 'PlatformError'
}

// containerd wraps every parse error in errdefs.ErrInvalidArgument, whose text is this.
const invalid = (msg: string) => new PlatformError(`${msg}: invalid argument`)
const q = (s: string) => JSON.stringify(s) // Go's %q, close enough for ASCII input

const SPECIFIER_RE = /^[A-Za-z0-9_.-]+$/
const OS_RE = /^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)((?:\+[A-Za-z0-9_.%-]+)*)\))?$/
// Go's build/syslist.go, which containerd consults for one-word specifiers.
const KNOWN_OS = new Set(
  ('aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 ' +
    'solaris windows zos').split(' ')
)
const KNOWN_ARCH = new Set(
  ('386 amd64 amd64p32 arm armbe arm64 arm64be ppc64 ppc64le loong64 mips mipsle mips64 mips64le ' +
    'mips64p32 mips64p32le ppc riscv riscv64 s390 s390x sparc sparc64 wasm').split(' ')
)

const spec = (os: string, architecture: string, variant = ''): PlatformSpec =>
  variant ? { os, architecture, variant } : { os, architecture }

function normalizeOs(os: string): string {
  if (!os) return DEFAULT_PLATFORM.os
  const lower = os.toLowerCase()
  return lower === 'macos' ? 'darwin' : lower
}

/** containerd's normalizeArch: aliases to GOARCH names, and each arch's default variant. */
function normalizeArch(arch: string, variant: string): [string, string] {
  arch = arch.toLowerCase()
  variant = variant.toLowerCase()
  switch (arch) {
    case 'i386':
      return ['386', '']
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', variant === 'v1' ? '' : variant]
    case 'aarch64':
    case 'arm64':
      return ['arm64', ['8', 'v8', 'v8.0'].includes(variant) ? '' : variant]
    case 'armhf':
      return ['arm', 'v7']
    case 'armel':
      return ['arm', 'v6']
    case 'arm':
      if (variant === '' || variant === '7') return ['arm', 'v7']
      return ['arm', ['5', '6', '8'].includes(variant) ? `v${variant}` : variant]
  }
  return [arch, variant]
}

/** The canonical form used for comparisons: `arm` → arm/v7, `aarch64/v8` → arm64, … */
export function normalizePlatform(p: PlatformSpec): PlatformSpec {
  const [architecture, variant] = normalizeArch(p.architecture, p.variant ?? '')
  return spec(normalizeOs(p.os), architecture, variant)
}

/** `os/arch[/variant]`, as in Docker's messages (containerd's platforms.Format). */
export function formatPlatform(p: PlatformSpec): string {
  if (!p.os) return 'unknown'
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/')
}

/**
 * The `platform` string of POST /images/create, as containerd's platforms.Parse reads it:
 * `os[/arch[/variant]]` or a bare architecture, aliases normalised. Like containerd it leaves
 * arm's default v7 off two-part forms and keeps an explicit arm64 `v8`, which is what Docker
 * then prints (`no matching manifest for linux/arm64/v8 …`); matching normalises either way.
 * An `os(version+features)` suffix is accepted and dropped: targets carry no OS version.
 */
export function parsePlatform(s: string): PlatformSpec {
  if (s.includes('*')) throw invalid(`${q(s)}: wildcards not yet supported`)
  const parts = splitN(s, '/', 4)
  const osMatch = OS_RE.exec(parts[0]!)
  if (!osMatch) {
    throw invalid(
      `${q(parts[0]!)} is an invalid OS component of ${q(s)}: ` +
        `OSAndVersion specifier component must match ${q(OS_RE.source)}`
    )
  }
  for (const part of parts.slice(1)) {
    if (!SPECIFIER_RE.test(part)) {
      throw invalid(
        `${q(part)} is an invalid component of ${q(s)}: ` +
          `platform specifier component must match ${q(SPECIFIER_RE.source)}`
      )
    }
  }
  const os = normalizeOs(osMatch[1]!)
  switch (parts.length) {
    case 1: {
      if (KNOWN_OS.has(os)) return spec(os, DEFAULT_PLATFORM.architecture)
      const [arch, variant] = normalizeArch(parts[0]!, '')
      if (KNOWN_ARCH.has(arch)) return spec(DEFAULT_PLATFORM.os, arch, dropArmV7(arch, variant))
      throw invalid(`${q(s)}: unknown operating system or architecture`)
    }
    case 2: {
      const [arch, variant] = normalizeArch(parts[1]!, '')
      return spec(os, arch, dropArmV7(arch, variant))
    }
    case 3: {
      const [arch, variant] = normalizeArch(parts[1]!, parts[2]!)
      return spec(os, arch, arch === 'arm64' && !variant ? 'v8' : variant)
    }
  }
  throw invalid(`${q(s)}: cannot parse platform specifier`)
}

const dropArmV7 = (arch: string, variant: string) =>
  arch === 'arm' && variant === 'v7' ? '' : variant

/** Go's strings.SplitN: at most n pieces, the last one keeping the remaining separators. */
function splitN(s: string, sep: string, n: number): string[] {
  const pieces = s.split(sep)
  return pieces.length <= n ? pieces : [...pieces.slice(0, n - 1), pieces.slice(n - 1).join(sep)]
}

/**
 * The JSON `platform` of inspect, history, load, push and delete, as moby's DecodePlatform
 * reads it (Go's encoding/json: keys match case-insensitively, null leaves a field unset).
 * Returned as given, not normalised, because Docker echoes it in messages.
 */
export function parseJsonPlatform(s: string): PlatformSpec {
  const fields = decodeGoPlatform(s)
  const { os = '', architecture = '', variant = '' } = fields
  const hasOptional = variant !== '' || fields.osVersion || (fields.osFeatures ?? 0) > 0
  if (!os && !architecture && hasOptional) {
    throw new PlatformError(
      'optional platform fields provided, but OS and Architecture are missing'
    )
  }
  if (!os || !architecture) throw new PlatformError('both OS and Architecture must be provided')
  return spec(os, architecture, variant)
}

type GoPlatform = {
  os?: string
  architecture?: string
  variant?: string
  osVersion?: string
  /** How many `os.features` were given; only their presence matters here. */
  osFeatures?: number
}

// ocispec.Platform's JSON names for its string fields.
const GO_STRING_FIELDS = {
  architecture: 'architecture',
  os: 'os',
  'os.version': 'osVersion',
  variant: 'variant',
} as const
const GO_FIELD_NAMES = [...Object.keys(GO_STRING_FIELDS), 'os.features']

function decodeGoPlatform(s: string): GoPlatform {
  const fail = (msg: string) => new PlatformError(`failed to parse platform: ${msg}`)
  const mismatch = (v: unknown, field: string, type: string) =>
    `json: cannot unmarshal ${jsonKind(v)} into Go struct field Platform.${field} of type ${type}`
  let json: unknown
  try {
    json = JSON.parse(s)
  } catch (e) {
    throw fail(goSyntaxError(s, e))
  }
  if (json === null) return {}
  if (typeof json !== 'object' || Array.isArray(json)) {
    throw fail(`json: cannot unmarshal ${jsonKind(json)} into Go value of type v1.Platform`)
  }
  const out: GoPlatform = {}
  let typeError: string | undefined // Go keeps decoding and reports the first one at the end
  for (const [key, value] of Object.entries(json)) {
    // Go matches keys case-insensitively when there is no exact match.
    const name = GO_FIELD_NAMES.includes(key)
      ? key
      : GO_FIELD_NAMES.find((f) => f === key.toLowerCase())
    if (!name || value === null) continue
    if (name === 'os.features') {
      if (!Array.isArray(value)) {
        typeError ??= mismatch(value, name, '[]string')
        continue
      }
      const bad = value.find((v) => v !== null && typeof v !== 'string')
      if (bad !== undefined) typeError ??= mismatch(bad, name, 'string')
      out.osFeatures = value.length
    } else if (typeof value !== 'string') typeError ??= mismatch(value, name, 'string')
    else out[GO_STRING_FIELDS[name as keyof typeof GO_STRING_FIELDS]] = value
  }
  if (typeError) throw fail(typeError)
  return out
}

const jsonKind = (v: unknown): string =>
  Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v

/** Go's wording for the syntax errors clients actually make; JS's own text is runtime-specific. */
function goSyntaxError(s: string, e: unknown): string {
  const first = s.trimStart()[0]
  if (first === undefined) return 'unexpected end of JSON input'
  if (!/[{["\-0-9tfn]/.test(first)) {
    return `invalid character '${first}' looking for beginning of value`
  }
  if (endsInsideValue(s)) return 'unexpected end of JSON input'
  return e instanceof Error ? e.message : String(e)
}

/** True when `s` stops inside a string or an unclosed object/array, i.e. it was cut short. */
function endsInsideValue(s: string): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
  }
  return inString || depth > 0
}

const trimV = (s = '') => (s.startsWith('v') ? s.slice(1) : s)
const atoi = (s: string): number | undefined => (/^[+-]?\d+$/.test(s) ? Number(s) : undefined)

/**
 * containerd's platformVector: the platforms a normalised target can run, best first.
 * amd64/vN → vN…v1, 386; arm/vN → vN…v5; arm64/v9.x → v9.x…v9, v8.(x+5)…v8, then arm.
 */
function platformVector(p: PlatformSpec): PlatformSpec[] {
  const { os } = p
  const vector = [p]
  switch (p.architecture) {
    case 'amd64': {
      const n = atoi(trimV(p.variant))
      if (n !== undefined) for (let k = n - 1; k >= 1; k--) vector.push(spec(os, 'amd64', `v${k}`))
      vector.push(spec(os, '386'))
      break
    }
    case 'arm': {
      const n = atoi(trimV(p.variant))
      if (n !== undefined) for (let k = n - 1; k >= 5; k--) vector.push(spec(os, 'arm', `v${k}`))
      break
    }
    case 'arm64': {
      let variant = p.variant || 'v8'
      const dot = variant.indexOf('.')
      let major = atoi(trimV(dot < 0 ? variant : variant.slice(0, dot)))
      if (major !== undefined && major >= 8) {
        let minor = (variant.length === 4 && dot >= 0 && atoi(variant.slice(dot + 1))) || 0
        const arm64 = (m: number) => spec(os, 'arm64', m === 0 ? `v${major}` : `v${major}.${m}`)
        if (major === 9) {
          // v9.0 branched from v8.5, so v9.x also runs v8.(x+5) and below.
          for (let m = minor - 1; m >= 0; m--) vector.push(arm64(m))
          minor += 5
          major = 8
          vector.push(spec(os, 'arm64', `v8.${minor}`))
        }
        for (let m = minor - 1; m >= 0; m--) vector.push(arm64(m))
      }
      if (variant.startsWith('v8.') || variant.startsWith('v9.')) variant = 'v8'
      vector.push(...platformVector(spec(os, 'arm', variant)))
      break
    }
  }
  return vector
}

const samePlatform = (a: PlatformSpec, b: PlatformSpec) =>
  a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '')

/** containerd's platforms.Only(target) as a ranking: index of the first compatible platform. */
function ranker(target: PlatformSpec): (p: PlatformSpec) => number {
  const vector = platformVector(normalizePlatform(target)).map(normalizePlatform)
  return (p) => vector.findIndex((v) => samePlatform(v, normalizePlatform(p)))
}

// distribution's manifest-list platform is a struct, so "absent" means every field is empty.
const isAbsent = (p: Platform | undefined): boolean =>
  !p ||
  (!p.os && !p.architecture && !p.variant && !p['os.version'] &&
    p['os.features'] === undefined && p.features === undefined)

/**
 * The index entries to try for `target`, best first (moby's filterManifests): compatible
 * platforms in preference order, ties kept in index order, entries without a platform last.
 * Attestation manifests (`unknown/unknown`) match no real target.
 */
export function matchManifests<T extends { platform?: Platform }>(
  entries: T[],
  target: PlatformSpec
): T[] {
  const rank = ranker({
    os: target.os || DEFAULT_PLATFORM.os,
    ...(target.architecture
      ? { architecture: target.architecture, variant: target.variant }
      : { architecture: DEFAULT_PLATFORM.architecture }),
  })
  return entries
    .map((entry, index) => {
      const r = isAbsent(entry.platform) ? Infinity : rank(entry.platform!)
      return { entry, index, rank: r }
    })
    .filter((m) => m.rank !== -1)
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map((m) => m.entry)
}

/**
 * Whether an image's own platform satisfies `target` (moby's OnlyPlatformWithFallback): a
 * platform.Only match, or the same os/arch when the image declares no variant at all, since
 * image configs often omit it. False is Docker's cue for the single-arch mismatch warning.
 */
export function platformMatches(p: PlatformSpec, target: PlatformSpec): boolean {
  if (ranker(target)(p) !== -1) return true
  if (p.variant) return false
  const a = normalizePlatform(p)
  const b = normalizePlatform(target)
  return a.os === b.os && a.architecture === b.architecture
}
