/**
 * Entry names and link targets checked against the archive's root, as moby's untar does
 * (image-api-notes §8.2): nothing may point outside the archive. Names are cleaned lexically
 * to `a/b/c`; links are kept as a map and followed component by component, so an archive can
 * alias files (old `docker save` links duplicate layers) but never reach beyond itself.
 *
 * A `docker load` archive refuses absolute names outright. A layer (`docker import`) reads
 * them from its root, as moby's UnpackLayer joins every name and link target to the root
 * directory: `/bin/sh -> /bin/busybox` is an ordinary layer entry.
 */
import { TarError } from './tar-header.ts'

// Linux's limit on links followed while resolving one path.
const MAX_LINK_HOPS = 40
// Linux's PATH_MAX and NAME_MAX: nothing longer can be unpacked anywhere.
const PATH_MAX = 4096
const NAME_MAX = 255

/** How absolute names and targets are read: refused (load archives) or from the root (layers). */
export type Absolute = 'refuse' | 'rooted'

/** `name` cleaned to `a/b/c` (`''` is the root); throws TarError when absolute or escaping. */
export function archivePath(name: string, absolute: Absolute = 'refuse'): string {
  checkLength(name)
  if (name.startsWith('/') && absolute === 'refuse') {
    throw new TarError(`invalid archive: ${JSON.stringify(name)} is an absolute path`)
  }
  const clean = cleanSegments(name.split('/'))
  if (clean === null) throw new TarError(`invalid archive: ${JSON.stringify(name)} is outside of the archive`)
  return clean
}

/**
 * Where the symlink `path` → `target` points, root-relative; throws TarError when outside.
 * `dir` is the directory the link really sits in when a link in `path` moved it.
 */
export function symlinkTarget(
  path: string,
  target: string,
  absolute: Absolute = 'refuse',
  dir = path.split('/').slice(0, -1).join('/')
): string {
  const outside = () =>
    new TarError(`invalid archive: invalid symlink ${JSON.stringify(path)} -> ${JSON.stringify(target)}`)
  checkLength(target)
  if (target === '' || (target.startsWith('/') && absolute === 'refuse')) throw outside()
  const from = target.startsWith('/') ? [] : dir.split('/')
  const clean = cleanSegments([...from, ...target.split('/')])
  if (clean === null) throw outside()
  return clean
}

/** Where the hardlink `path` → `target` points (tar stores it root-relative). */
export function hardlinkTarget(path: string, target: string, absolute: Absolute = 'refuse'): string {
  checkLength(target)
  const clean = target.startsWith('/') && absolute === 'refuse' ? null : cleanSegments(target.split('/'))
  if (clean === null || clean === '') {
    const link = `${JSON.stringify(path)} -> ${JSON.stringify(target)}`
    throw new TarError(`invalid archive: invalid hardlink ${link}`)
  }
  return clean
}

/** `path` with every link in it replaced by its target; throws TarError on a link loop. */
export function resolveLinks(path: string, links: ReadonlyMap<string, string>): string {
  let parts = path.split('/').filter((p) => p !== '')
  if (links.size === 0) return parts.join('/')
  for (let hops = 0; ; ) {
    let replaced = false
    let prefix = ''
    for (let i = 0; i < parts.length; i++) {
      prefix = i === 0 ? parts[0]! : `${prefix}/${parts[i]}`
      const target = links.get(prefix)
      if (target === undefined) continue
      if (++hops > MAX_LINK_HOPS) {
        throw new TarError(`invalid archive: too many levels of symbolic links in ${path}`)
      }
      parts = [...target.split('/').filter((p) => p !== ''), ...parts.slice(i + 1)]
      replaced = true
      break
    }
    if (!replaced) return parts.join('/')
  }
}

/** Where an entry named `path` (cleaned) really is once the links of its directories are followed. */
export function entryLocation(path: string, links: ReadonlyMap<string, string>): string {
  const slash = path.lastIndexOf('/')
  if (slash < 0) return path
  const dir = resolveLinks(path.slice(0, slash), links)
  return dir ? `${dir}/${path.slice(slash + 1)}` : path.slice(slash + 1)
}

// ENAMETOOLONG, in tar's words.
function checkLength(name: string): void {
  const bytes = new TextEncoder().encode(name).byteLength
  const tooLong = bytes > PATH_MAX || name.split('/').some((s) => s.length > NAME_MAX)
  if (tooLong) {
    const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name
    throw new TarError(`invalid archive: ${JSON.stringify(shown)}: file name too long`)
  }
}

// Lexical clean; null when `..` climbs above the root.
function cleanSegments(segments: string[]): string | null {
  const out: string[] = []
  for (const s of segments) {
    if (s === '' || s === '.') continue
    if (s === '..') {
      if (!out.length) return null
      out.pop()
    } else out.push(s)
  }
  return out.join('/')
}
