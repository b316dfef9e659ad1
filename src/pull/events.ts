/**
 * What a pull reports, as domain events. The Docker JSON-message wire format is produced
 * only at the HTTP edge (src/http/engine/json-message.ts), as moby separates progress.Output
 * from its stream formatter.
 */
import type { Digest } from '../oci/digest.ts'

export type LayerStatus =
  | 'exists' // Already exists
  | 'queued' // Pulling fs layer
  | 'waiting' // Waiting (more layers queued than download slots)
  | 'downloading' // Downloading, with current/total
  | 'retrying' // Retrying in N seconds
  | 'verifying' // Verifying Checksum
  | 'downloaded' // Download complete
  | 'complete' // Pull complete

export type PullEvent =
  /** The manifest is resolved; `id` is the tag (or full reference for digest pulls). */
  | { type: 'start'; id: string; repository: string }
  | {
      type: 'layer'
      digest: Digest
      status: LayerStatus
      current?: number
      total?: number
      /** For `retrying`: seconds until the next attempt. */
      seconds?: number
    }
  | { type: 'warning'; message: string }
  /** The digest the tag points to: the index's for multi-platform images. */
  | { type: 'digest'; digest: Digest }
  | { type: 'done'; upToDate: boolean; reference: string; imageId: Digest }
