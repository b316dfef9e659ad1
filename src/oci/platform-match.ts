/**
 * The ordered choice of manifests from an index (containerd's platforms.Only, moby's
 * filterManifests) and the single-image platform check. See
 * ../shared/reference/image-api-notes.md §7.5.
 */
import type { Platform } from './manifest.ts'
import {
  DEFAULT_PLATFORM,
  normalizePlatform,
  platformSpec as spec,
  type PlatformSpec,
} from './platform.ts'

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
