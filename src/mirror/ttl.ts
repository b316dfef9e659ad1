/**
 * How long a cached tag is served before it is revalidated upstream: the config's
 * `mirror.tagTtl` rules, first match wins, else `mirror.tagTtlSeconds`. Manifests by digest
 * never expire (a digest names its bytes).
 */
import type { MirrorConfig, TagTtlRule } from '../config.ts'
import type { RepositoryName } from '../storage/keys.ts'

/** The TTL in milliseconds for a tag of a repository. */
export type TagTtl = (repo: RepositoryName, tag: string) => number

/** `*` within a segment, `**` across segments, everything else literal. */
export function globRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*'
      i++
    } else if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

/**
 * A pattern without a registry host (`library/*`) is about docker.io, as references are;
 * one that starts with `**` is about every registry.
 */
function withRegistry(pattern: string): string {
  if (pattern.startsWith('**')) return pattern
  const first = pattern.split('/')[0]!
  const host = first.includes('.') || first.includes(':') || first === 'localhost'
  return pattern.includes('/') && host ? pattern : `docker.io/${pattern}`
}

/** Compiles the config's rules into a lookup. */
export function tagTtl(config: MirrorConfig): TagTtl {
  const rules = config.tagTtl.map((r: TagTtlRule) => ({
    repo: globRegExp(withRegistry(r.pattern)),
    tag: r.tag === undefined ? undefined : globRegExp(r.tag),
    ms: r.seconds * 1000,
  }))
  const fallback = config.tagTtlSeconds * 1000
  return (repo, tag) => {
    const name = `${repo.domain}/${repo.path}`
    for (const r of rules) {
      if (r.repo.test(name) && (!r.tag || r.tag.test(tag))) return r.ms
    }
    return fallback
  }
}
