/**
 * Manifest lookups the way dockerd does them (image-api-notes §7.4 step 3): HEAD first for
 * the digest, GET when HEAD does not give one. Manifest bytes are hashed on arrival, and
 * must match when pulled by digest, or by tag when the registry declared their sha256 digest
 * (as containerd, which fetches by the declared digest); schema 1 is refused with Docker's
 * own words.
 */
import { isDigest, parseDigest, sha256, DigestMismatchError, type Digest } from '../oci/digest.ts'
import { sniffMediaType } from '../oci/manifest.ts'
import { isSchema1, MANIFEST_ACCEPT } from '../oci/media-types.ts'
import { BodyTooLargeError, discard, MANIFEST_LIMIT, readBody } from './body.ts'
import { errorFromResponse } from './classify.ts'
import type { RepositoryScope } from './context.ts'
import { RegistryError, UnsupportedManifestError } from './errors.ts'
import { requestInfo, send, type RegistryRequest } from './transport.ts'

/** What a tag or digest points at. */
export interface ResolvedManifest {
  digest: Digest
  mediaType: string
  size: number
}

/** A manifest or index exactly as the registry served it. */
export interface FetchedManifest {
  bytes: Uint8Array
  digest: Digest
  mediaType: string
}

const manifestRequest = (
  scope: RepositoryScope,
  ref: string,
  method: 'GET' | 'HEAD',
  signal?: AbortSignal
): RegistryRequest => ({
  method,
  url: `${scope.base}/manifests/${ref}`,
  headers: { accept: MANIFEST_ACCEPT },
  signal,
})

/** The refusal, naming the reference as `path:tag` or `path@digest`. */
const schema1 = (scope: RepositoryScope, ref: string, mediaType: string) =>
  new UnsupportedManifestError(
    'schema1',
    mediaType,
    `${scope.path}${ref.includes(':') ? '@' : ':'}${ref}`
  )

const mediaTypeOf = (contentType: string | null): string =>
  contentType?.split(';')[0].trim().toLowerCase() ?? ''
const GENERIC_TYPES = new Set(['', 'application/json', 'text/plain', 'application/octet-stream'])

/** The digest, media type and size of `ref` (a tag or a digest). */
export async function resolveManifest(
  scope: RepositoryScope,
  ref: string,
  signal?: AbortSignal
): Promise<ResolvedManifest> {
  const head = await send(scope.ctx, scope.session, {
    ...manifestRequest(scope, ref, 'HEAD', signal),
    retryStatus: false,
  })
  await discard(head)
  const headerDigest = head.headers.get('docker-content-digest') ?? ''
  const mediaType = mediaTypeOf(head.headers.get('content-type'))
  const size = Number(head.headers.get('content-length') ?? NaN)
  const trusted = head.ok && isDigest(headerDigest) && (!ref.includes(':') || headerDigest === ref)
  if (trusted && !GENERIC_TYPES.has(mediaType) && Number.isSafeInteger(size)) {
    if (isSchema1(mediaType)) throw schema1(scope, ref, mediaType)
    return { digest: headerDigest, mediaType, size }
  }
  // No digest, a generic type or an error without a body: the GET tells the full story.
  const m = await fetchManifest(scope, ref, signal)
  return { digest: m.digest, mediaType: m.mediaType, size: m.bytes.byteLength }
}

/** The manifest bytes for `ref`, digest-checked when `ref` is a digest. */
export async function fetchManifest(
  scope: RepositoryScope,
  ref: string,
  signal?: AbortSignal
): Promise<FetchedManifest> {
  const request = manifestRequest(scope, ref, 'GET', signal)
  const pinned = ref.includes(':') ? parseDigest(ref) : undefined
  const res = await send(scope.ctx, scope.session, request)
  if (res.status !== 200) throw await errorFromResponse(res, requestInfo(request))
  let bytes: Uint8Array
  try {
    bytes = await readBody(res, MANIFEST_LIMIT)
  } catch (err) {
    if (!(err instanceof BodyTooLargeError)) throw err
    throw new RegistryError({
      ...requestInfo(request),
      status: 200,
      text: `manifest too large: more than ${MANIFEST_LIMIT} bytes`,
    })
  }
  const digest = sha256(bytes)
  if (pinned && digest !== pinned) throw mismatch(pinned, digest)
  const mediaType = manifestMediaType(res.headers.get('content-type'), bytes)
  if (isSchema1(mediaType)) throw schema1(scope, ref, mediaType)
  // By tag, bytes damaged on the way would otherwise pass for another manifest. (After the
  // schema 1 check: its declared digest is that of the unsigned payload.)
  const declared = res.headers.get('docker-content-digest') ?? ''
  if (!pinned && isDigest(declared) && digest !== declared) throw mismatch(declared, digest)
  return { bytes, digest, mediaType }
}

const mismatch = (expected: Digest, actual: Digest) =>
  new DigestMismatchError(expected, actual, `manifest verification failed for digest ${expected}`)

/** Content-Type unless it is generic or the body is schema 1; then what the body says. */
function manifestMediaType(contentType: string | null, bytes: Uint8Array): string {
  const declared = mediaTypeOf(contentType)
  let sniffed: string | undefined
  try {
    sniffed = sniffMediaType(JSON.parse(new TextDecoder().decode(bytes)))
  } catch {}
  if (isSchema1(sniffed)) return isSchema1(declared) ? declared : sniffed!
  return GENERIC_TYPES.has(declared) ? (sniffed ?? declared) : declared
}
