/**
 * Layer downloads with dockerd's messages: `Already exists` for the bottom run already in
 * the store, `Pulling fs layer` for the rest, `Waiting` beyond the download slots, then
 * per-layer progress, and `Pull complete` strictly bottom to top.
 */
import type { Digest } from '../oci/digest.ts'
import type { Descriptor } from '../oci/manifest.ts'
import type { BlobOptions } from '../registry/blobs.ts'
import type { RepositoryClient } from '../registry/client.ts'
import { originOf, type FillSource } from './fills.ts'
import type { PullEvent } from './events.ts'
import type { PullDeps } from './pull.ts'
import { progressThrottle } from './throttle.ts'

type Emit = (e: PullEvent) => void

export async function downloadLayers(
  layers: Descriptor[],
  repo: RepositoryClient,
  deps: PullDeps,
  emit: Emit,
  signal?: AbortSignal
): Promise<void> {
  const present = await Promise.all(layers.map((l) => deps.blobs.stat(l.digest)))
  let base = 0
  while (base < layers.length && present[base]) {
    emit({ type: 'layer', digest: layers[base]!.digest, status: 'exists' })
    base++
  }
  const todo = layers.slice(base)
  const slots = deps.maxConcurrentDownloads
  for (const l of todo) emit({ type: 'layer', digest: l.digest, status: 'queued' })
  todo.slice(slots).forEach((l) => emit({ type: 'layer', digest: l.digest, status: 'waiting' }))

  const finished = todo.map(() => false)
  let completed = 0
  const reportCompletions = () => {
    while (completed < todo.length && finished[completed]) {
      emit({ type: 'layer', digest: todo[completed]!.digest, status: 'complete' })
      completed++
    }
  }
  await forEachLimited(todo, slots, signal, async (layer, i, s) => {
    await downloadOne(layer, repo, deps, emit, s)
    finished[i] = true
    reportCompletions()
  })
}

async function downloadOne(
  layer: Descriptor,
  repo: RepositoryClient,
  deps: PullDeps,
  emit: Emit,
  signal: AbortSignal
): Promise<void> {
  const { digest, size } = layer
  if (!(await deps.blobs.stat(digest))) {
    const due = progressThrottle(size)
    // dockerd's countdown is per second; a resume waits well under one, so one line says it.
    const onRetry = (ms: number) =>
      emit({ type: 'layer', digest, status: 'retrying', seconds: Math.max(1, Math.ceil(ms / 1000)) })
    await deps.fills.fetch(digest, blobSource(repo, digest, size, { onRetry }), {
      signal,
      onProgress: (current) => {
        if (due(current)) emit({ type: 'layer', digest, status: 'downloading', current, total: size })
      },
    })
    emit({ type: 'layer', digest, status: 'verifying' })
  }
  emit({ type: 'layer', digest, status: 'downloaded' })
}

/**
 * Where a pull's fill of `digest` reads from: `repo`, expecting `size` bytes. The store's put
 * verifies digest and size, so the client does not hash a second time.
 */
export const blobSource = (
  repo: RepositoryClient,
  digest: Digest,
  size: number,
  opts: Omit<BlobOptions, 'size' | 'signal' | 'verify'> = {}
): FillSource => ({
  origin: originOf(repo),
  open: async (signal) => ({
    body: await repo.blob(digest, { ...opts, size, signal, verify: false }),
    size,
  }),
})

/** Runs `fn` over `items` with at most `limit` at once; the first failure cancels the rest. */
async function forEachLimited<T>(
  items: T[],
  limit: number,
  signal: AbortSignal | undefined,
  fn: (item: T, index: number, signal: AbortSignal) => Promise<void>
): Promise<void> {
  const local = new AbortController()
  const combined = signal ? AbortSignal.any([signal, local.signal]) : local.signal
  let next = 0
  let failure: unknown
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const i = next++
      try {
        combined.throwIfAborted()
        await fn(items[i]!, i, combined)
      } catch (err) {
        if (failure === undefined) failure = err
        local.abort(err)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failure !== undefined) throw failure
}
