/**
 * What a push reports, as domain events; the HTTP edge turns them into Docker's JSON
 * messages (image-api-notes §6), as pull's events are.
 */
import type { Digest } from '../oci/digest.ts'

export type PushLayerStatus =
  | 'preparing' // Preparing
  | 'waiting' // Waiting (more layers than upload slots)
  | 'pushing' // Pushing, with current/total
  | 'pushed' // Pushed
  | 'exists' // Layer already exists
  | 'mounted' // Mounted from <repo>

export type PushEvent =
  /** Sent before anything is checked; `repository` is the canonical name. */
  | { type: 'start'; repository: string }
  | {
      type: 'layer'
      /** Layers are named by their DiffID in push output. */
      diffId: Digest
      status: PushLayerStatus
      current?: number
      total?: number
      /** For `mounted`: the source repository path. */
      from?: string
    }
  /** One tag's manifest is up: `<tag>: digest: <digest> size: <size>` and the aux line. */
  | { type: 'tag'; tag: string; digest: Digest; size: number }
