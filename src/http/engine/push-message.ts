/**
 * Push events as Docker's JSON messages (image-api-notes §6): per-layer lines carry
 * progressDetail and the DiffID's short id, summary lines do not, and each pushed tag ends
 * with its digest line plus the aux object the CLI hands to its callback.
 */
import { shortId } from '../../oci/digest.ts'
import type { PushEvent, PushLayerStatus } from '../../push/events.ts'
import { layerMessage, type JsonMessage } from './json-message.ts'

const LAYER_TEXT: Record<Exclude<PushLayerStatus, 'mounted'>, string> = {
  preparing: 'Preparing',
  waiting: 'Waiting',
  pushing: 'Pushing',
  pushed: 'Pushed',
  exists: 'Layer already exists',
}

/** The messages one event becomes (a pushed tag is two lines). */
export function pushMessages(e: PushEvent): JsonMessage[] {
  switch (e.type) {
    case 'start':
      return [{ status: `The push refers to repository [${e.repository}]` }]
    case 'layer': {
      const id = shortId(e.diffId)
      if (e.status === 'mounted') return [layerMessage(id, `Mounted from ${e.from}`)]
      const current = e.status === 'pushing' ? e.current : undefined
      return [layerMessage(id, LAYER_TEXT[e.status], current, e.total)]
    }
    case 'tag':
      return [
        { status: `${e.tag}: digest: ${e.digest} size: ${e.size}` },
        { progressDetail: {}, aux: { Tag: e.tag, Digest: e.digest, Size: e.size } },
      ]
  }
}

/** Flattens an event stream into messages, lazily. */
export async function* pushMessageStream(
  events: AsyncIterator<PushEvent>
): AsyncGenerator<JsonMessage> {
  for (;;) {
    const r = await events.next()
    if (r.done) return
    yield* pushMessages(r.value)
  }
}
