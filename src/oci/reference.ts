/**
 * Image references exactly as Docker parses them (distribution/reference v0.6):
 * grammar, normalisation (docker.io, library/), familiar form and error wording.
 * See ../shared/reference/image-api-notes.md §7.1–7.2.
 *
 * Grammar (the regexps below are assembled from it, as in distribution's regexp.go):
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [ domain "/" ] remote-name
 *   domain           := host [ ":" port-number ]
 *   host             := domain-name | "[" IPv6address "]"
 *   domain-name      := domain-component [ "." domain-component ]*
 *   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 *   port-number      := /[0-9]+/
 *   remote-name      := path-component [ "/" path-component ]*   (at most 255 characters)
 *   path-component   := alpha-numeric [ separator alpha-numeric ]*
 *   alpha-numeric    := /[a-z0-9]+/
 *   separator        := /[_.]|__|[-]+/
 *   tag              := /[\w][\w.-]{0,127}/
 *   digest           := algorithm ":" /[0-9a-fA-F]{32,}/, then validated as go-digest does
 *   algorithm        := /[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*\/
 *   identifier       := /[a-f0-9]{64}/                            (an image ID without "sha256:")
 */
import type { Digest } from './digest.ts'

/**
 * A normalised reference: `domain/path[:tag][@digest]`. A reference may carry both a tag and
 * a digest; the digest wins for pulls and lookups. `digest` may be sha384/sha512 (Docker
 * accepts them in references); code that verifies content must still go through parseDigest.
 */
export interface Reference {
  /** Registry host[:port], `docker.io` for Docker Hub. */
  readonly domain: string
  /** Repository path inside the registry, e.g. `library/busybox`. */
  readonly path: string
  readonly tag?: string
  readonly digest?: Digest
}

/** An image ID given where a name was allowed (`<64 hex>` or `sha256:<64 hex>`). */
export interface ImageId {
  readonly id: Digest
}

/** A 400-class reference error; the message is Docker's, word for word. */
export class InvalidReferenceError extends Error {
  override name = 'InvalidReferenceError'
}

/** Pulling `scratch` is refused with 403 by Docker, so it gets its own class. */
export class ReservedNameError extends Error {
  override name = 'ReservedNameError'
  constructor() {
    super("'scratch' is a reserved name")
  }
}

const DEFAULT_DOMAIN = 'docker.io'
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io'
const OFFICIAL_REPO_PREFIX = 'library/'
const DEFAULT_TAG = 'latest'
const NAME_TOTAL_LENGTH_MAX = 255

const optional = (...res: string[]) => `(?:${res.join('')})?`
const anyTimes = (...res: string[]) => `(?:${res.join('')})*`
const capture = (...res: string[]) => `(${res.join('')})`
const anchored = (...res: string[]) => new RegExp(`^${res.join('')}$`)

const alphanumeric = '[a-z0-9]+'
const separator = '(?:[._]|__|[-]+)'
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const optionalPort = '(?::[0-9]+)?'
const tagPat = '[\\w][\\w.-]{0,127}'
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}'
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]'
const domainName = domainNameComponent + anyTimes('\\.', domainNameComponent)
const host = `(?:${domainName}|${ipv6address})`
const domainAndPort = host + optionalPort
const pathComponent = alphanumeric + anyTimes(separator, alphanumeric)
const remoteName = pathComponent + anyTimes('/', pathComponent)
const namePat = optional(domainAndPort, '/') + remoteName

const referenceRegexp = anchored(
  capture(namePat),
  optional(':', capture(tagPat)),
  optional('@', capture(digestPat))
)
const anchoredNameRegexp = anchored(optional(capture(domainAndPort), '/'), capture(remoteName))
const anchoredTagRegexp = anchored(tagPat)
const anchoredIdentifierRegexp = anchored('[a-f0-9]{64}')

// go-digest's view of digests: the algorithms Docker registers, and its loose outer shape.
const DIGEST_HEX_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 }
const GO_DIGEST_ANCHORED = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/

/** go-digest's Digest.Validate: the error message, or undefined when `s` is a valid digest. */
function digestError(s: string): string | undefined {
  const i = s.indexOf(':')
  if (i <= 0 || i + 1 === s.length) return 'invalid checksum digest format'
  const alg = s.slice(0, i)
  const encoded = s.slice(i + 1)
  const length = Object.hasOwn(DIGEST_HEX_LENGTHS, alg) ? DIGEST_HEX_LENGTHS[alg] : undefined
  if (length === undefined) {
    const known = GO_DIGEST_ANCHORED.test(s)
    return known ? 'unsupported digest algorithm' : 'invalid checksum digest format'
  }
  if (encoded.length !== length) return 'invalid checksum digest length'
  if (!/^[a-f0-9]+$/.test(encoded)) return 'invalid checksum digest format'
  return undefined
}

/**
 * distribution's reference.Parse on a normalised `domain/remainder` string. Its "repository
 * name must have at least one component" and "repository name must be lowercase" cannot
 * happen here: the input is never empty, and parseNormalizedNamed has already refused
 * uppercase in everything before the first ':'.
 */
function parse(s: string): Reference {
  const m = referenceRegexp.exec(s)
  if (!m) throw new InvalidReferenceError('invalid reference format')
  const name = anchoredNameRegexp.exec(m[1]!)
  const domain = name?.[1] ?? ''
  const path = name ? name[2]! : m[1]!
  if (path.length > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidReferenceError(
      `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`
    )
  }
  const digest = m[3]
  const err = digest ? digestError(digest) : undefined
  if (err) throw new InvalidReferenceError(err)
  return build(domain, path, m[2], digest as Digest | undefined)
}

function build(domain: string, path: string, tag?: string, digest?: Digest): Reference {
  return { domain, path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) }
}

/** Splits off the registry the way Docker does; adds docker.io and library/ for Hub names. */
function splitDockerDomain(name: string): [domain: string, remainder: string] {
  const slash = name.indexOf('/')
  if (slash < 0) return [DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name]
  const first = name.slice(0, slash)
  let domain = first
  let remainder = name.slice(slash + 1)
  if (first === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN
  else if (first !== 'localhost' && !/[.:]/.test(first) && first.toLowerCase() === first) {
    // A Hub namespace. (An uppercase first component counts as a host: namespaces can't be.)
    domain = DEFAULT_DOMAIN
    remainder = name
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) {
    remainder = OFFICIAL_REPO_PREFIX + remainder
  }
  return [domain, remainder]
}

/** distribution's ParseNormalizedNamed: `busybox` → docker.io/library/busybox, no tag added. */
export function parseNormalizedNamed(s: string): Reference {
  if (anchoredIdentifierRegexp.test(s)) {
    throw new InvalidReferenceError(
      `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`
    )
  }
  const [domain, remainder] = splitDockerDomain(s)
  // Docker cuts at the first ':' whatever follows, so `foo/Bar@sha256:…` names `foo/Bar@sha256`.
  const colon = remainder.indexOf(':')
  const remote = colon < 0 ? remainder : remainder.slice(0, colon)
  if (remote.toLowerCase() !== remote) {
    throw new InvalidReferenceError(
      `invalid reference format: repository name (${remote}) must be lowercase`
    )
  }
  return parse(`${domain}/${remainder}`)
}

/** distribution's ParseAnyReference: image IDs (`<64 hex>`, any valid digest) first, then names. */
export function parseAnyReference(s: string): Reference | ImageId {
  if (anchoredIdentifierRegexp.test(s)) return { id: `sha256:${s}` }
  if (digestError(s) === undefined) return { id: s as Digest }
  return parseNormalizedNamed(s)
}

/** Narrows parseAnyReference's result. */
export const isImageId = (r: Reference | ImageId): r is ImageId => 'id' in r

/** Adds `latest` when the reference has neither a tag nor a digest (TagNameOnly). */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag || ref.digest ? ref : { ...ref, tag: DEFAULT_TAG }
}

/** `docker.io/library/busybox` → `busybox`; `docker.io/library/a/b` keeps `library/`. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return canonicalName(ref)
  if (ref.path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_REPO_PREFIX.length)
    if (!rest.includes('/')) return rest
  }
  return ref.path
}

/** The form Docker prints: familiar name plus `:tag` and `@digest` as present. */
export const familiarString = (ref: Reference): string => familiarName(ref) + suffix(ref)

/** `domain/path`, e.g. `docker.io/library/busybox`. */
export const canonicalName = (ref: Reference): string =>
  // The domain is empty only when the first component looked like a host but is not a valid one
  // (`foo_bar.com/x`); distribution then keeps the whole name as the path, and so do we.
  ref.domain ? `${ref.domain}/${ref.path}` : ref.path

/** `domain/path[:tag][@digest]`, e.g. `docker.io/library/busybox:latest`. */
export const canonicalString = (ref: Reference): string => canonicalName(ref) + suffix(ref)

const suffix = (ref: Reference): string =>
  (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '')

/** True when `s` is a valid tag (`[\w][\w.-]{0,127}`). */
export const isValidTag = (s: string): boolean => anchoredTagRegexp.test(s)

/**
 * The reference POST /images/create pulls: `fromImage` (a trailing `:` tolerated) combined with
 * `tag`, which may hold a digest. Unlike Docker (where no tag means "all tags") a reference with
 * neither tag nor digest gets `latest`.
 */
export function pullReference(fromImage: string, tag?: string): Reference {
  let ref = parseNormalizedNamed(fromImage.endsWith(':') ? fromImage.slice(0, -1) : fromImage)
  if (tag) {
    if (digestError(tag) === undefined) ref = build(ref.domain, ref.path, undefined, tag as Digest)
    else if (isValidTag(tag)) ref = build(ref.domain, ref.path, tag, ref.digest)
    else throw new InvalidReferenceError('invalid tag format')
  }
  if (familiarName(ref) === 'scratch') throw new ReservedNameError()
  return withDefaultTag(ref)
}
