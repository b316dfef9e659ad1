/**
 * Which upstream repository a /v2 request is for. Three spellings reach the same place:
 *
 *   /v2/busybox/…                      docker.io, `library/` added to one-component names
 *   /v2/library/busybox/…?ns=docker.io containerd's hosts.toml mirrors say which registry
 *   /v2/ghcr.io/org/app/…              a path prefix naming a configured registry
 *
 * Only docker.io and the registries in the config are reachable, so the mirror is no open
 * proxy. A docker.io `mirrors` list is not used here: those are for the Engine API's pulls,
 * and this mirror is typically one of them, so following it could loop.
 */
import { DOCKER_HUB, type RegistryConfig } from '../config.ts'
import { InvalidReferenceError, parseNormalizedNamed } from '../oci/reference.ts'
import { lookupPullEndpoints, type Endpoint } from '../registry/endpoints.ts'
import type { RepositoryName } from '../storage/keys.ts'
import { nameInvalid, registryDenied } from './errors.ts'

/** An upstream repository and the endpoints that serve it, first to last. */
export interface Upstream {
  /** Canonical: `{domain: 'docker.io', path: 'library/busybox'}`; keys the store's links. */
  readonly repo: RepositoryName
  readonly endpoints: readonly Endpoint[]
}

/** `docker.io/library/busybox`: the canonical name, for logs, metrics and the admin API. */
export const upstreamName = (u: Upstream): string => `${u.repo.domain}/${u.repo.path}`

const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])
const LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?'
/** A registry host as `ns=` may name it: host name or bracketed IPv6, optional port. */
const HOST = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?$`)

/**
 * Resolves the `<name>` of a /v2 path (and containerd's `ns` query parameter) to an upstream.
 * Throws NAME_INVALID for names Docker would not parse, DENIED for unconfigured registries.
 */
export function resolveUpstream(
  name: string,
  ns: string | undefined,
  registries: Record<string, RegistryConfig>
): Upstream {
  let domain: string
  let path: string
  try {
    if (ns !== undefined) {
      if (!HOST.test(ns)) throw new InvalidReferenceError(`invalid ns ${ns}`)
      domain = HUB_ALIASES.has(ns.toLowerCase()) ? DOCKER_HUB : ns
      const ref = parseNormalizedNamed(`${domain}/${name}`)
      if (ref.tag || ref.digest || ref.domain !== domain) {
        throw new InvalidReferenceError(`invalid repository name ${name}`)
      }
      path = ref.path
    } else {
      const ref = parseNormalizedNamed(name)
      if (ref.tag || ref.digest || !ref.domain) {
        throw new InvalidReferenceError(`invalid repository name ${name}`)
      }
      domain = ref.domain
      path = ref.path
    }
  } catch (err) {
    if (err instanceof InvalidReferenceError) throw nameInvalid(name, err.message)
    throw err
  }
  if (domain !== DOCKER_HUB && !registries[domain]) throw registryDenied(domain)
  const endpoints = lookupPullEndpoints(domain, registries).filter((e) => !e.mirror)
  return { repo: { domain, path }, endpoints }
}
