/**
 * The one key layout. Every key edgepull stores is built here; drivers only ever see the
 * resulting strings (distribution's paths.go, in spirit):
 *
 *   <root>
 *   ├── blobs/sha256/<hex[0:2]>/<hex>          all content: layers, configs, manifests, indexes
 *   ├── images/<config hex>                    Engine image record (ImageRecord JSON)
 *   ├── engine/tags/<ref seg>/…/<ref seg>      Engine `repo:tag` → {"id": "<image id>"}
 *   ├── uploads/<uuid>                         a blob whose digest is not known yet (staging)
 *   └── repositories/<host>/<path seg>/…/      the mirror, per upstream repository
 *       ├── _manifests/tags/<tag>              {digest, mediaType, size, checkedAt}
 *       ├── _manifests/revisions/<hex>         {mediaType, size}: manifest known in this repo
 *       ├── _layers/<hex>                      link: the blob was fetched through this repo
 *       └── _access                            {public, checkedAt}: anonymous pulls work
 *
 * Names, tags and references are encoded one `/`-separated segment at a time: bytes outside
 * `[a-z0-9._-]` become `%xx` (lowercase hex), and so does a leading `.` or `_`. Hence no key
 * has `.`, `..`, hidden or empty segments, a repository segment never collides with the
 * `_manifests`/`_layers` markers, and no two keys differ only by case (case-insensitive file
 * systems). Canonical references always end in a `:tag` or `@digest` segment, which no
 * intermediate segment of another reference can equal, so an Engine tag key is never a
 * "directory" of another. Drivers may keep private areas outside this space (the fs driver
 * uses `.tmp/`), since keys never start a segment with `.`.
 */
import { hex, isDigest, type Digest } from '../oci/digest.ts'
import type { Reference } from '../oci/reference.ts'
import { StorageError } from './driver.ts'

/** A key or prefix that breaks the key grammar (checkKey). */
export class InvalidKeyError extends StorageError {
  override name = 'InvalidKeyError'
}

/** The repository part of a reference: registry host and path, as the mirror keys it. */
export type RepositoryName = Pick<Reference, 'domain' | 'path'>

// The grammar every driver enforces. Wider than what encode() emits (drivers are dumb and
// tests use readable keys), narrow enough for any file system and for R2.
const SEGMENT = /^[A-Za-z0-9_~%+=@,-][A-Za-z0-9._~%+=@,-]*$/
const MAX_SEGMENT = 255 // NAME_MAX on common file systems
const MAX_KEY = 1024 // R2 and S3 key limit

/** Returns `key` when it is `seg/seg/…` with valid segments, else throws InvalidKeyError. */
export function checkKey(key: string): string {
  if (key.length > MAX_KEY) throw new InvalidKeyError(`key longer than ${MAX_KEY} bytes`)
  for (const seg of key.split('/')) {
    if (!SEGMENT.test(seg)) throw new InvalidKeyError(`invalid key ${JSON.stringify(key)}`)
    if (seg.length > MAX_SEGMENT) {
      throw new InvalidKeyError(`key segment longer than ${MAX_SEGMENT} bytes in ${key}`)
    }
  }
  return key
}

/** Returns `prefix` when it is empty or a key, optionally cut mid-segment or after a `/`. */
export function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix
  const cut = prefix.lastIndexOf('/') + 1
  if (cut > 0) checkKey(prefix.slice(0, cut - 1))
  const partial = prefix.slice(cut)
  if (partial !== '' && !SEGMENT.test(partial)) {
    throw new InvalidKeyError(`invalid key prefix ${JSON.stringify(prefix)}`)
  }
  return prefix
}

const LITERAL = /^[a-z0-9._-]$/
const utf8 = new TextEncoder()

/** Encodes one name segment so that it is a valid, case-insensitively unique key segment. */
export function encodeSegment(s: string): string {
  if (s === '') throw new InvalidKeyError('empty name segment')
  let out = ''
  for (const byte of utf8.encode(s)) {
    const c = String.fromCharCode(byte)
    const lead = out === '' && (c === '.' || c === '_')
    out += LITERAL.test(c) && !lead ? c : `%${byte.toString(16).padStart(2, '0')}`
  }
  return out
}

/** Encodes a `/`-separated name segment by segment, keeping its hierarchy. */
export const encodePath = (name: string): string => name.split('/').map(encodeSegment).join('/')

/** Reverses encodePath; null when `encoded` was not produced by it. */
export function decodePath(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded)
  } catch {
    return null
  }
}

function sha256Hex(d: Digest): string {
  if (!isDigest(d)) throw new InvalidKeyError(`not a sha256 digest: ${d}`)
  return hex(d)
}

function digestOf(h: string | undefined): Digest | null {
  const d = `sha256:${h}`
  return isDigest(d) ? d : null
}

const lastSegment = (key: string): string => key.slice(key.lastIndexOf('/') + 1)

/** Prefix of every blob key. */
export const BLOBS_PREFIX = 'blobs/sha256/'

/** Where the bytes of a blob live. */
export function blobKey(d: Digest): string {
  const h = sha256Hex(d)
  return `${BLOBS_PREFIX}${h.slice(0, 2)}/${h}`
}

/** The digest a blob key stands for; null for anything else. */
export function digestOfBlobKey(key: string): Digest | null {
  if (!key.startsWith(BLOBS_PREFIX)) return null
  const d = digestOf(lastSegment(key))
  return d && blobKey(d) === key ? d : null
}

/** Prefix of every Engine image record. */
export const IMAGES_PREFIX = 'images/'

/** Where the Engine record of the image with this id (config digest) lives. */
export const imageKey = (id: Digest): string => IMAGES_PREFIX + sha256Hex(id)

/** The image id an image key stands for; null for anything else. */
export function idOfImageKey(key: string): Digest | null {
  return key.startsWith(IMAGES_PREFIX) ? digestOf(key.slice(IMAGES_PREFIX.length)) : null
}

/** Prefix of every Engine tag. */
export const ENGINE_TAGS_PREFIX = 'engine/tags/'

/** Where an Engine tag (canonical reference, e.g. `docker.io/library/busybox:latest`) lives. */
export const engineTagKey = (ref: string): string => checkKey(ENGINE_TAGS_PREFIX + encodePath(ref))

/** The canonical reference an Engine tag key stands for; null for anything else. */
export function refOfEngineTagKey(key: string): string | null {
  if (!key.startsWith(ENGINE_TAGS_PREFIX)) return null
  return decodePath(key.slice(ENGINE_TAGS_PREFIX.length))
}

/** Everything the mirror keeps about one upstream repository sits under this prefix. */
export const repositoryPrefix = (repo: RepositoryName): string =>
  `repositories/${encodeSegment(repo.domain)}/${encodePath(repo.path)}/`

/** Prefix of a repository's tag links. */
export const mirrorTagsPrefix = (repo: RepositoryName): string =>
  `${repositoryPrefix(repo)}_manifests/tags/`

/** A repository's tag link: which manifest the tag pointed at when last checked. */
export const mirrorTagKey = (repo: RepositoryName, tag: string): string =>
  checkKey(mirrorTagsPrefix(repo) + encodeSegment(tag))

/** The tag a mirror tag key stands for. */
export const tagOfMirrorTagKey = (key: string): string | null => decodePath(lastSegment(key))

/** Prefix of the manifests known in a repository. */
export const mirrorRevisionsPrefix = (repo: RepositoryName): string =>
  `${repositoryPrefix(repo)}_manifests/revisions/`

/** Marks a manifest as known in a repository (a blob by itself proves nothing about repos). */
export const mirrorRevisionKey = (repo: RepositoryName, d: Digest): string =>
  checkKey(mirrorRevisionsPrefix(repo) + sha256Hex(d))

/** Prefix of the blobs fetched through a repository. */
export const mirrorLayersPrefix = (repo: RepositoryName): string =>
  `${repositoryPrefix(repo)}_layers/`

/** Links a blob to a repository it was fetched through. */
export const mirrorLayerKey = (repo: RepositoryName, d: Digest): string =>
  checkKey(mirrorLayersPrefix(repo) + sha256Hex(d))

/** The digest a revision or layer link key stands for; null for anything else. */
export const digestOfLinkKey = (key: string): Digest | null => digestOf(lastSegment(key))

/** Prefix of blobs being staged until their digest is known (BlobStore.putComputed). */
export const UPLOADS_PREFIX = 'uploads/'

/** Where one staged upload lives; `id` is a random UUID. */
export const uploadKey = (id: string): string => checkKey(UPLOADS_PREFIX + encodeSegment(id))

/** Prefix of everything the mirror keeps. */
export const REPOSITORIES_PREFIX = 'repositories/'

const MIRROR_LINK = /\/(?:_layers|_manifests\/revisions)\/[0-9a-f]{64}$/

/**
 * The blob a mirror link (`…/_layers/<hex>` or `…/_manifests/revisions/<hex>`) keeps alive;
 * null for any other key. Repository segments never start with `_`, so the match is exact.
 */
export const digestOfMirrorLinkKey = (key: string): Digest | null =>
  key.startsWith(REPOSITORIES_PREFIX) && MIRROR_LINK.test(key) ? digestOfLinkKey(key) : null

/**
 * Whether anonymous callers could read a repository upstream when last checked: public
 * repositories skip the mirror's per-caller confirmation.
 */
export const mirrorAccessKey = (repo: RepositoryName): string =>
  checkKey(`${repositoryPrefix(repo)}_access`)

/** A key under `repositories/`, taken apart. */
export type MirrorKey =
  | { kind: 'tag'; repository: string; tag: string }
  | { kind: 'revision' | 'layer'; repository: string; digest: Digest }
  | { kind: 'access'; repository: string }

const MIRROR_KEY = new RegExp(
  '^(repositories/.+/)(?:_manifests/tags/([^/]+)|_manifests/revisions/([0-9a-f]{64})' +
    '|_layers/([0-9a-f]{64})|(_access))$'
)

/**
 * What a mirror key is and which repository it belongs to (`repository` is the key prefix,
 * as `repositoryPrefix` builds it); null for any other key.
 */
export function parseMirrorKey(key: string): MirrorKey | null {
  const m = MIRROR_KEY.exec(key)
  if (!m) return null
  const [, repository, tag, revision, layer, access] = m as unknown as (string | undefined)[]
  if (tag !== undefined) {
    const t = decodePath(tag)
    return t === null ? null : { kind: 'tag', repository: repository!, tag: t }
  }
  if (access !== undefined) return { kind: 'access', repository: repository! }
  const digest = `sha256:${revision ?? layer}` as Digest
  return { kind: revision ? 'revision' : 'layer', repository: repository!, digest }
}
