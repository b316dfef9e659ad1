/**
 * POST /images/create with `fromSrc`: `docker import`. From the request body (`-`) the whole
 * import happens before the response starts, so failures are HTTP errors; from a URL the
 * stream opens with `Downloading from <url>`, then `Importing` progress, and failures after
 * that travel in the stream (image-api-notes §2, import).
 */
import type { RegistryConfig } from '../../config.ts'
import { changeList } from '../../images/changes.ts'
import { ImageError } from '../../images/errors.ts'
import { importConfig, importImage, type ImportOptions } from '../../images/import.ts'
import { repoTagReference, tagImage } from '../../images/tag.ts'
import { parsePlatform } from '../../oci/platform.ts'
import { Channel } from '../../pull/channel.ts'
import { progressThrottle } from '../../pull/throttle.ts'
import type { ImageRecord } from '../../storage/images.ts'
import type { AppDeps } from '../deps.ts'
import { EngineError } from '../errors.ts'
import { inflateLimits, limitedBody, limitedStream, limitsOf } from './body-limit.ts'
import type { JsonMessage } from './json-message.ts'
import { ndjsonResponse } from './ndjson.ts'
import { progressBar } from './progress-bar.ts'

/** The query parameters an import reads. */
export interface ImportQuery {
  fromSrc: string
  repo?: string
  tag?: string
  message?: string
  changes?: string | string[]
  platform?: string
}

/** Answers an import: validates everything it can before reading a byte. */
export async function importResponse(
  req: Request,
  deps: AppDeps,
  q: ImportQuery
): Promise<Response> {
  const ref = repoTagReference(q.repo, q.tag)
  let platform = deps.platform
  if (q.platform) {
    try {
      platform = parsePlatform(q.platform)
    } catch (err) {
      throw new EngineError(400, (err as Error).message)
    }
  }
  const limits = limitsOf(deps)
  const opts: ImportOptions = {
    platform,
    message: q.message || `Imported from ${q.fromSrc}`,
    changes: changeList(q.changes),
    signal: req.signal,
    limits: inflateLimits(limits),
  }
  importConfig(opts) // a bad change is a 400 before anything is read
  const finish = async (record: ImageRecord): Promise<JsonMessage> => {
    if (ref) await tagImage(deps.images, record.id, ref)
    return { status: record.id }
  }
  if (q.fromSrc === '-') {
    const body = limitedBody(req, limits.bodyBytes)
    if (!body) throw new EngineError(400, 'the request body is empty: expected a tar archive')
    const record = await importImage(deps, body, opts)
    return ndjsonResponse(await finish(record), (async function* () {})(), () => {})
  }
  const url = sourceUrl(q.fromSrc, deps.registries)
  const fetch = deps.fetch
  if (!fetch) throw new EngineError(501, 'importing from a URL is not available in this runtime')
  const abort = new AbortController()
  const messages = new Channel<JsonMessage>()
  void (async () => {
    try {
      const res = await fetch(new Request(url, { signal: abort.signal }))
      if (!res.ok || !res.body) {
        await res.body?.cancel().catch(() => {})
        const status = `${res.status} ${res.statusText}`.trim()
        throw new ImageError(500, `failed to GET ${url} with status ${status}`)
      }
      const length = Number(res.headers.get('content-length') ?? NaN)
      const total = Number.isSafeInteger(length) ? length : undefined
      const body = limitedStream(res.body, limits.bodyBytes, 'the download').pipeThrough(
        importing(total, (m) => messages.push(m))
      )
      const record = await importImage(deps, body, { ...opts, signal: abort.signal })
      messages.push(await finish(record))
      messages.close()
    } catch (err) {
      messages.close(err)
    }
  })()
  const first = { status: `Downloading from ${url}` }
  return ndjsonResponse(first, messages[Symbol.asyncIterator](), () => abort.abort())
}

/**
 * `http://` is assumed without a scheme, as dockerd does. Only hosts the config lists (as a
 * registry, or as a registry's endpoint or mirror) may be fetched: a proxy must not become a
 * way to reach anything else.
 */
function sourceUrl(src: string, registries: Record<string, RegistryConfig>): string {
  let url: URL
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(src) ? src : `http://${src}`)
  } catch {
    throw new EngineError(400, `invalid fromSrc URL: ${src}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EngineError(400, `unsupported fromSrc scheme ${url.protocol}: use http or https`)
  }
  const allowed = new Set<string>()
  for (const [host, cfg] of Object.entries(registries)) {
    allowed.add(host.toLowerCase())
    for (const u of [cfg.endpoint, ...(cfg.mirrors ?? [])]) if (u) allowed.add(new URL(u).host)
  }
  if (!allowed.has(url.host.toLowerCase())) {
    throw new EngineError(
      403,
      `importing from ${url.host} is not allowed by this edgepull: ` +
        'only hosts in "registries" in the config are'
    )
  }
  return url.toString()
}

/** Passes bytes through, reporting `Importing` progress as moby's progress reader does. */
function importing(total: number | undefined, emit: (m: JsonMessage) => void) {
  const due = progressThrottle(total)
  let current = 0
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      current += chunk.byteLength
      if (due(current)) {
        const progressDetail = total === undefined ? { current } : { current, total }
        emit({ status: 'Importing', progressDetail, progress: progressBar(current, total) })
      }
      controller.enqueue(chunk)
    },
  })
}
