/**
 * Docker's JSON message stream: the only file that knows its shape. Key order follows
 * moby's struct (status, progressDetail, progress, id, errorDetail, error, aux) and the
 * rules of image-api-notes §4: per-layer lines always carry progressDetail, summary lines
 * never do, and errors carry both errorDetail and error.
 */
import { shortId } from '../../oci/digest.ts'
import type { LayerStatus, PullEvent } from '../../pull/events.ts'
import { progressBar } from './progress-bar.ts'

export interface JsonMessage {
  stream?: string
  status?: string
  progressDetail?: { current?: number; total?: number }
  progress?: string
  id?: string
  errorDetail?: { message: string }
  error?: string
  aux?: unknown
}

const LAYER_TEXT: Record<Exclude<LayerStatus, 'retrying'>, string> = {
  exists: 'Already exists',
  queued: 'Pulling fs layer',
  waiting: 'Waiting',
  downloading: 'Downloading',
  verifying: 'Verifying Checksum',
  downloaded: 'Download complete',
  complete: 'Pull complete',
}

/** A per-layer line: `{"status", "progressDetail", ["progress"], "id"}`. */
export function layerMessage(
  id: string,
  status: string,
  current?: number,
  total?: number
): JsonMessage {
  if (current === undefined) return { status, progressDetail: {}, id }
  const detail = total === undefined ? { current } : { current, total }
  return { status, progressDetail: detail, progress: progressBar(current, total), id }
}

export function pullMessage(e: PullEvent): JsonMessage {
  switch (e.type) {
    case 'start':
      return { status: `Pulling from ${e.repository}`, id: e.id }
    case 'layer': {
      const id = shortId(e.digest)
      if (e.status === 'retrying') {
        const s = e.seconds ?? 0
        return layerMessage(id, `Retrying in ${s} second${s === 1 ? '' : 's'}`)
      }
      const current = e.status === 'downloading' ? e.current : undefined
      return layerMessage(id, LAYER_TEXT[e.status], current, e.total)
    }
    case 'warning':
      return { status: e.message }
    case 'digest':
      return { status: `Digest: ${e.digest}` }
    case 'done':
      return {
        status: e.upToDate
          ? `Status: Image is up to date for ${e.reference}`
          : `Status: Downloaded newer image for ${e.reference}`,
      }
  }
}

export function errorMessage(message: string): JsonMessage {
  return { errorDetail: { message }, error: message }
}

/** One NDJSON line as moby writes it: JSON followed by CRLF. */
export const line = (m: JsonMessage): string => `${JSON.stringify(m)}\r\n`
