/**
 * Blob downloads. `openBlob` is for the pull pipeline: a stream whose bytes are size- and
 * sha256-verified as they flow (it errors at the end instead of closing on a mismatch, so a
 * store that commits on close never commits wrong bytes) and that resumes broken
 * connections. `blobResponse` is for the mirror: the upstream response as it came.
 */
import { verifying, type Digest } from '../oci/digest.ts'
import { errorFromResponse } from './classify.ts'
import type { RepositoryScope } from './context.ts'
import { requestInfo, send, type RegistryRequest } from './transport.ts'
import { resumableBody } from './resume.ts'

/** Options for `blob()`. */
export interface BlobOptions {
  /** The size the descriptor announced; checked as bytes arrive and at the end. */
  size?: number
  signal?: AbortSignal
  /** Called after each chunk with the number of bytes delivered so far. */
  onProgress?: (bytesSoFar: number) => void
  /**
   * Hash while streaming (default). A caller whose sink verifies anyway (the store's put
   * does) passes false to save a second sha256 pass of ~0.8 s per GiB.
   */
  verify?: boolean
  /** Told before each wait to resume a broken download. */
  onRetry?: (delayMs: number) => void
  /** Told the length the registry declared (Content-Length), once it has answered. */
  onLength?: (length: number | undefined) => void
}

/** Options for `blobResponse()`. */
export interface BlobResponseOptions {
  method?: 'GET' | 'HEAD'
  /** A `Range` header value, passed through (`bytes=0-1023`). */
  range?: string
  signal?: AbortSignal
}

const blobRequest = (
  scope: RepositoryScope,
  digest: string,
  o: BlobResponseOptions
): RegistryRequest => ({
  method: o.method ?? 'GET',
  url: `${scope.base}/blobs/${digest}`,
  headers: o.range ? { range: o.range } : undefined,
  signal: o.signal,
})

/** The upstream response for a blob, after authorization and retries, unchecked. */
export function blobResponse(
  scope: RepositoryScope,
  digest: Digest,
  o: BlobResponseOptions = {}
): Promise<Response> {
  return send(scope.ctx, scope.session, blobRequest(scope, digest, o))
}

/** A verified, resuming stream of the blob's bytes; rejects at once if the registry refuses. */
export async function openBlob(
  scope: RepositoryScope,
  digest: Digest,
  o: BlobOptions = {}
): Promise<ReadableStream<Uint8Array>> {
  const open = async (offset: number): Promise<Response> => {
    const request = blobRequest(scope, digest, {
      signal: o.signal,
      range: offset > 0 ? `bytes=${offset}-` : undefined,
    })
    // A resume is one try: resumableBody counts it against the download's own budget.
    const res = await send(scope.ctx, scope.session, {
      ...request,
      attempts: offset > 0 ? 1 : undefined,
    })
    // 416 after a resume: the blob ends where we are (verification judges the result).
    if (res.status === 200 || (offset > 0 && (res.status === 206 || res.status === 416))) return res
    throw await errorFromResponse(res, requestInfo(request))
  }
  const first = await open(0)
  o.onLength?.(declaredLength(first))
  const body = resumableBody({
    first,
    reopen: open,
    total: o.size ?? declaredLength(first),
    policy: scope.ctx.retry,
    sleep: scope.ctx.sleep,
    signal: o.signal,
    request: requestInfo(blobRequest(scope, digest, {})),
    onProgress: o.onProgress,
    onRetry: o.onRetry,
  })
  return o.verify === false ? body : body.pipeThrough(verifying({ digest, size: o.size }))
}

/** Content-Length, unless a content coding makes it the length of something else. */
function declaredLength(res: Response): number | undefined {
  if (res.headers.get('content-encoding')) return undefined
  const n = Number(res.headers.get('content-length') ?? NaN)
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined
}
