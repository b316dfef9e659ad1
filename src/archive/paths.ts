/**
 * Entry names and link targets checked against the archive's root, as moby's untar does
 * (image-api-notes §8.2): nothing may point outside the archive. Names are cleaned lexically
 * to `a/b/c`; links are kept as a map and followed component by component, so an archive can
 * alias files (old `docker save` links duplicate layers) but never reach beyond itself.
 */
import { TarError } from './tar-header.ts'

// Linux's limit on links followed while resolving one path.
const MAX_LINK_HOPS = 40

/** `name` cleaned to `a/b/c` (`''` is the root); throws TarError when absolute or escaping. */
export function archivePath(name: string): string {
  if (name.startsWith('/')) throw new TarError(`invalid archive: ${JSON.stringify(name)} is an absolute path`)
  const clean = cleanSegments(name.split('/'))
  if (clean === null) throw new TarError(`invalid archive: ${JSON.stringify(name)} is outside of the archive`)
  return clean
}

/** Where the symlink `path` → `target` points, root-relative; throws TarError when outside. */
export function symlinkTarget(path: string, target: string): string {
  const outside = () =>
    new TarError(`invalid archive: invalid symlink ${JSON.stringify(path)} -> ${JSON.stringify(target)}`)
  if (target === '' || target.startsWith('/')) throw outside()
  const dir = path.split('/').slice(0, -1)
  const clean = cleanSegments([...dir, ...target.split('/')])
  if (clean === null) throw outside()
  return clean
}

/** Where the hardlink `path` → `target` points (tar stores it root-relative). */
export function hardlinkTarget(path: string, target: string): string {
  const clean = target.startsWith('/') ? null : cleanSegments(target.split('/'))
  if (clean === null || clean === '') {
    const link = `${JSON.stringify(path)} -> ${JSON.stringify(target)}`
    throw new TarError(`invalid archive: invalid hardlink ${link}`)
  }
  return clean
}

/** `path` with every link in it replaced by its target; throws TarError on a link loop. */
export function resolveLinks(path: string, links: ReadonlyMap<string, string>): string {
  let parts = path.split('/').filter((p) => p !== '')
  for (let hops = 0; ; ) {
    let replaced = false
    for (let i = 1; i <= parts.length; i++) {
      const target = links.get(parts.slice(0, i).join('/'))
      if (target === undefined) continue
      if (++hops > MAX_LINK_HOPS) {
        throw new TarError(`invalid archive: too many levels of symbolic links in ${path}`)
      }
      parts = [...target.split('/').filter((p) => p !== ''), ...parts.slice(i)]
      replaced = true
      break
    }
    if (!replaced) return parts.join('/')
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
