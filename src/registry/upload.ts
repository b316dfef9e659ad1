/**
 * The push side of the distribution API (OCI distribution spec, "Push"): HEAD to skip blobs
 * the repository has, cross-repository mounts, monolithic or chunked blob uploads, manifest
 * PUTs. Request bodies are bytes, so a request the retry loop repeats is sent whole again.
 */
import { sha256, type Digest } from '../oci/digest.ts'
import { discard } from './body.ts'
import { errorFromResponse } from './classify.ts'
import type { RepositoryScope } from './context.ts'
import { RegistryError } from './errors.ts'
import { requestInfo, send, type RegistryRequest } from './transport.ts'

/** Options for `uploadBlob`. */
export interface UploadOptions {
  signal?: AbortSignal
  /** Called after each request that moved bytes, with the bytes sent so far. */
  onProgress?: (bytesSent: number) => void
  /**
   * Blobs up to this size go up in one PUT; larger ones in PATCH chunks of this size (each
   * held in memory while it is sent). Default 8 MiB.
   */
  chunkSize?: number
  /** An upload session opened already, by a mount the registry declined. */
  location?: string
}

/** What a mount attempt gave: the blob, or an ordinary upload session to use instead. */
export type MountResult = { mounted: true } | { mounted: false; location: string }

/** The default size for monolithic uploads and PATCH chunks. */
export const DEFAULT_CHUNK_SIZE = 8 << 20

/** True when the repository has the blob (200 to HEAD), false on 404. */
export async function blobExists(
  scope: RepositoryScope,
  digest: Digest,
  signal?: AbortSignal
): Promise<boolean> {
  const r: RegistryRequest = { method: 'HEAD', url: `${scope.base}/blobs/${digest}`, signal }
  const res = await send(scope.ctx, scope.session, r)
  await discard(res)
  if (res.status === 200) return true
  if (res.status === 404) return false
  throw await errorFromResponse(res, requestInfo(r))
}

/**
 * Asks the registry to link `digest` from the repository `from` (same registry). `scope`
 * must hold a session with pull access on `from` too.
 */
export async function mountBlob(
  scope: RepositoryScope,
  digest: Digest,
  from: string,
  signal?: AbortSignal
): Promise<MountResult> {
  const query = new URLSearchParams({ mount: digest, from })
  const url = `${scope.base}/blobs/uploads/?${query}`
  const r: RegistryRequest = { method: 'POST', url, signal }
  const res = await send(scope.ctx, scope.session, r)
  if (res.status === 201) {
    await discard(res)
    return { mounted: true }
  }
  return { mounted: false, location: await uploadLocation(res, r, 202) }
}

/** Uploads a blob whose bytes `open()` streams (called once per attempt). */
export async function uploadBlob(
  scope: RepositoryScope,
  digest: Digest,
  size: number,
  open: () => Promise<ReadableStream<Uint8Array>>,
  opts: UploadOptions = {}
): Promise<void> {
  const { signal, onProgress } = opts
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE
  let location = opts.location ?? (await startUpload(scope, signal))
  const body = await open()
  if (size <= chunkSize) {
    const bytes = await readAll(body, size)
    await finishUpload(scope, location, digest, bytes, signal)
    onProgress?.(size)
    return
  }
  let sent = 0
  for await (const chunk of chunks(body, chunkSize)) {
    const r: RegistryRequest = {
      method: 'PATCH',
      url: location,
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `${sent}-${sent + chunk.byteLength - 1}`,
      },
      body: chunk,
      signal,
      // A PATCH that failed half-way cannot be repeated blindly: the caller retries the blob.
      retryStatus: false,
      attempts: 1,
    }
    location = await uploadLocation(await send(scope.ctx, scope.session, r), r, 202)
    sent += chunk.byteLength
    onProgress?.(sent)
  }
  if (sent !== size) throw new Error(`blob ${digest} has ${sent} bytes in the store, not ${size}`)
  await finishUpload(scope, location, digest, undefined, signal)
}

/** PUTs a manifest under `ref` (a tag or its digest); returns the digest of the bytes. */
export async function putManifest(
  scope: RepositoryScope,
  ref: string,
  bytes: Uint8Array,
  mediaType: string,
  signal?: AbortSignal
): Promise<Digest> {
  const r: RegistryRequest = {
    method: 'PUT',
    url: `${scope.base}/manifests/${ref}`,
    headers: { 'content-type': mediaType },
    body: bytes,
    signal,
  }
  const res = await send(scope.ctx, scope.session, r)
  if (res.status !== 201 && res.status !== 200) throw await errorFromResponse(res, requestInfo(r))
  await discard(res)
  const digest = sha256(bytes)
  const echoed = res.headers.get('docker-content-digest')
  if (echoed && echoed !== digest) {
    const text = `registry stored the manifest as ${echoed}, not ${digest}`
    throw new RegistryError({ ...requestInfo(r), status: res.status, text })
  }
  return digest
}

async function startUpload(scope: RepositoryScope, signal?: AbortSignal): Promise<string> {
  const r: RegistryRequest = { method: 'POST', url: `${scope.base}/blobs/uploads/`, signal }
  return uploadLocation(await send(scope.ctx, scope.session, r), r, 202)
}

async function finishUpload(
  scope: RepositoryScope,
  location: string,
  digest: Digest,
  bytes: Uint8Array | undefined,
  signal?: AbortSignal
): Promise<void> {
  const url = new URL(location)
  url.searchParams.set('digest', digest)
  const r: RegistryRequest = {
    method: 'PUT',
    url: url.toString(),
    headers: { 'content-type': 'application/octet-stream' },
    body: bytes ?? new Uint8Array(0),
    signal,
  }
  const res = await send(scope.ctx, scope.session, r)
  if (res.status !== 201) throw await errorFromResponse(res, requestInfo(r))
  await discard(res)
}

/** The absolute `Location` of an upload session from a response that must be `expected`. */
async function uploadLocation(
  res: Response,
  r: RegistryRequest,
  expected: number
): Promise<string> {
  if (res.status !== expected) throw await errorFromResponse(res, requestInfo(r))
  await discard(res)
  const location = res.headers.get('location')
  if (!location) {
    const text = 'registry sent no Location for the upload'
    throw new RegistryError({ ...requestInfo(r), status: res.status, text })
  }
  return new URL(location, r.url).toString()
}

async function readAll(body: ReadableStream<Uint8Array>, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(size)
  let at = 0
  for await (const chunk of chunks(body, size || 1)) {
    if (at + chunk.byteLength > size) throw new Error(`blob is larger than ${size} bytes`)
    out.set(chunk, at)
    at += chunk.byteLength
  }
  if (at !== size) throw new Error(`blob is ${at} bytes, expected ${size}`)
  return out
}

/** Re-cuts a stream into pieces of exactly `size` bytes (the last one shorter). */
async function* chunks(body: ReadableStream<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  const reader = body.getReader()
  let buf = new Uint8Array(size)
  let fill = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      let offset = 0
      while (offset < value.byteLength) {
        const n = Math.min(size - fill, value.byteLength - offset)
        buf.set(value.subarray(offset, offset + n), fill)
        fill += n
        offset += n
        if (fill === size) {
          yield buf
          buf = new Uint8Array(size)
          fill = 0
        }
      }
    }
    if (fill > 0) yield buf.subarray(0, fill)
  } finally {
    void reader.cancel().catch(() => {})
  }
}
