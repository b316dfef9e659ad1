/**
 * The image config (the blob whose digest is the image ID) as the Engine API reads it.
 * Loosely typed on purpose: old images lack fields the OCI schema requires, and Docker reports
 * what is there.
 */
import type { Digest } from '../oci/digest.ts'
import type { BlobStore } from '../storage/blobs.ts'
import { parseGoTime, type GoTime } from './time.ts'

/** One `history` entry. */
export interface ConfigHistory {
  created?: string
  created_by?: string
  author?: string
  comment?: string
  empty_layer?: boolean
}

/** The parts of an image config the Engine API reports. */
export interface ConfigJson {
  created?: string
  author?: string
  architecture?: string
  os?: string
  variant?: string
  'os.version'?: string
  comment?: string
  docker_version?: string
  container?: string
  container_config?: Record<string, unknown> | null
  /** The runtime config (Docker field names: Env, Cmd, Labels, …). */
  config?: Record<string, unknown> | null
  rootfs?: { type?: string; diff_ids?: string[] }
  history?: ConfigHistory[]
}

// Configs stay far below this; it only bounds what a corrupted store can make us read.
const MAX_CONFIG = 4 << 20

/** The config of image `id`, or null when its blob is gone (deleted since it was listed). */
export async function loadConfig(blobs: BlobStore, id: Digest): Promise<ConfigJson | null> {
  const bytes = await blobs.bytes(id, MAX_CONFIG)
  if (!bytes) return null
  const json: unknown = JSON.parse(new TextDecoder().decode(bytes))
  return json && typeof json === 'object' && !Array.isArray(json) ? (json as ConfigJson) : {}
}

/** The config's creation time, when it has one Go can parse. */
export const createdOf = (config: ConfigJson): GoTime | null => parseGoTime(config.created)

/** `config.Labels`: null when absent, as Go leaves a nil map. */
export function labelsOf(config: ConfigJson): Record<string, string> | null {
  const labels = config.config?.Labels
  return labels && typeof labels === 'object' ? (labels as Record<string, string>) : null
}
