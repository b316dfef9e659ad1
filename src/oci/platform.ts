/**
 * Platforms as Docker handles them: the `--platform` string (containerd's platforms.Parse),
 * normalisation and formatting. The JSON form of the other Engine routes lives in
 * platform-json.ts and the ordered choice of manifests from an index in platform-match.ts;
 * both are re-exported here. See ../shared/reference/image-api-notes.md §7.5.
 */
// Re-exported so callers need one import. The siblings import from this file in turn; that
// cycle is safe because they touch its bindings only inside functions, never at load time.
export { parseJsonPlatform } from './platform-json.ts'
export { matchManifests, platformMatches } from './platform-match.ts'

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

/** A PlatformSpec with `variant` left off when empty, the shape every function here returns. */
export const platformSpec = (os: string, architecture: string, variant = ''): PlatformSpec =>
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
  return platformSpec(normalizeOs(p.os), architecture, variant)
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
      if (KNOWN_OS.has(os)) return platformSpec(os, DEFAULT_PLATFORM.architecture)
      const [arch, variant] = normalizeArch(parts[0]!, '')
      if (KNOWN_ARCH.has(arch)) {
        return platformSpec(DEFAULT_PLATFORM.os, arch, dropArmV7(arch, variant))
      }
      throw invalid(`${q(s)}: unknown operating system or architecture`)
    }
    case 2: {
      const [arch, variant] = normalizeArch(parts[1]!, '')
      return platformSpec(os, arch, dropArmV7(arch, variant))
    }
    case 3: {
      const [arch, variant] = normalizeArch(parts[1]!, parts[2]!)
      return platformSpec(os, arch, arch === 'arm64' && !variant ? 'v8' : variant)
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

