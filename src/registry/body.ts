/**
 * Bounded body reads. A registry (or something pretending to be one) decides how much it
 * sends; we decide how much we keep. Limits follow ggcr: 64 KiB for token and error
 * bodies, and a manifest cap well above real manifests (the largest indexes are ~100 KiB).
 */
import { concatBytes } from '../oci/bytes.ts'

/** Token responses and error envelopes. */
export const SMALL_BODY_LIMIT = 64 * 1024
/** Manifests and indexes. */
export const MANIFEST_LIMIT = 4 * 1024 * 1024

/** Thrown by `readBody` when a body exceeds its limit and truncation was not asked for. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError'
  constructor(readonly limit: number) {
    super(`body larger than ${limit} bytes`)
  }
}

/**
 * Reads at most `limit` bytes. Beyond that it cancels the body (releasing the connection)
 * and either returns what it has (`truncate`) or throws `BodyTooLargeError`.
 */
export async function readBody(
  res: Response,
  limit: number,
  opts: { truncate?: boolean } = {}
): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0)
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (!opts.truncate && declared > limit) {
    await res.body.cancel().catch(() => {})
    throw new BodyTooLargeError(limit)
  }
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    const room = limit - size
    if (value.byteLength > room) {
      if (room > 0) chunks.push(value.subarray(0, room))
      size += Math.max(room, 0)
      await reader.cancel().catch(() => {})
      if (!opts.truncate) throw new BodyTooLargeError(limit)
      break
    }
    chunks.push(value)
    size += value.byteLength
  }
  return concatBytes(chunks, size)
}

/** Reads a small body as text, truncated at `limit`; read failures give ''. */
export async function readSmallText(res: Response, limit = SMALL_BODY_LIMIT): Promise<string> {
  try {
    return new TextDecoder().decode(await readBody(res, limit, { truncate: true }))
  } catch {
    return ''
  }
}

/** Releases a response's connection without reading it. */
export async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => {})
}
