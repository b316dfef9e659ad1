/**
 * Blobs through the mirror. A stored blob is served to a repository that is linked to it;
 * a repository that is not (the blob came through another one) gets it only after a HEAD
 * upstream confirms the blob is there too. A miss starts a fill (src/pull/fills.ts), or joins
 * the one in flight, be it a pull's or another client's: one upstream GET however many ask,
 * each reader tailing the bytes as they arrive, from any offset.
 */
import { DigestError, parseDigest, type Digest } from '../oci/digest.ts'
import { originOf, type FillSource } from '../pull/fills.ts'
import { errorFromResponse } from '../registry/classify.ts'
import type { RepositoryClient } from '../registry/client.ts'
import { redactUrl } from '../registry/errors.ts'
import type { ByteRange } from '../storage/driver.ts'
import { lease } from '../storage/lock.ts'
import type { Core, MirrorContext } from './context.ts'
import {
  blobUnknown,
  digestInvalid,
  fromUpstream,
  upstreamNotFound,
  upstreamRefused,
} from './errors.ts'
import type { MirrorOutcome } from './events.ts'

/** The blob a request gets. */
export interface BlobAnswer {
  /** Its length; unknown only on a miss whose upstream declared none. */
  size: number | undefined
  outcome: MirrorOutcome
  /** Opens the bytes, or a range within `size` (GET only). */
  open(range?: ByteRange): Promise<ReadableStream<Uint8Array>>
}

/** The blob service. */
export interface BlobService {
  /** `head` answers with the size only, and never starts a fill. */
  get(ctx: MirrorContext, digest: string, head: boolean): Promise<BlobAnswer>
}

/** HEADs `digest` in `repo`: its declared length, or the registry's refusal as a RegistryError. */
export async function headBlob(
  repo: RepositoryClient,
  digest: Digest
): Promise<number | undefined> {
  const res = await repo.blobResponse(digest, { method: 'HEAD' })
  await res.body?.cancel().catch(() => {})
  if (res.status !== 200) {
    const url = redactUrl(`${repo.endpoint.url}/v2/${repo.path}/blobs/${digest}`)
    throw await errorFromResponse(res, { method: 'HEAD', url })
  }
  const n = Number(res.headers.get('content-length') ?? NaN)
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

const notForHead = async (): Promise<never> => {
  throw new Error('HEAD has no body')
}

/** Creates the blob service over the mirror's core. */
export function blobService(core: Core): BlobService {
  const { links } = core
  const { blobs, fills } = core.deps

  const mapUpstream = (digest: Digest) => (err: unknown) => {
    throw upstreamNotFound(err) ? blobUnknown(digest) : fromUpstream(err)
  }

  /** HEAD upstream: does this repository have the blob? Resolves with its declared length. */
  const confirm = (ctx: MirrorContext, digest: Digest): Promise<number | undefined> =>
    core.attempt(ctx, (repo) => headBlob(repo, digest)).catch(mapUpstream(digest))

  const source = (ctx: MirrorContext, digest: Digest): FillSource => ({
    origin: originOf({ endpoint: ctx.upstream.endpoints[0]!, path: ctx.upstream.repo.path }),
    async open(signal) {
      let size: number | undefined
      const body = await core.attempt(ctx, (repo) =>
        repo.blob(digest, { signal, verify: false, onLength: (n) => (size = n) })
      )
      return { body, size }
    },
  })

  const fromStore = (digest: Digest) => async (range?: ByteRange) => {
    const o = await blobs.get(digest, range)
    if (!o) throw blobUnknown(digest) // evicted between lookup and read
    return o.body
  }

  return {
    async get(ctx, ref, head) {
      let digest: Digest
      try {
        digest = parseDigest(ref)
      } catch (err) {
        if (err instanceof DigestError) throw digestInvalid(ref, err.message)
        throw err
      }
      const repo = ctx.upstream.repo
      const [present, linked] = await Promise.all([
        blobs.stat(digest),
        links.hasLayer(repo, digest),
      ])
      if (present) {
        if (!linked) {
          await confirm(ctx, digest)
          await links.putLayer(repo, digest)
        }
        const outcome = linked ? 'hit' : 'revalidated'
        return { size: present.size, outcome, open: head ? notForHead : fromStore(digest) }
      }
      const src = source(ctx, digest)
      const inflight = fills.current(digest)
      // Joining a fill from another repository would serve its bytes without asking this one.
      if (inflight && inflight.origin !== src.origin) await confirm(ctx, digest)
      if (head) {
        if (inflight) {
          const size = await inflight.opened.catch(mapUpstream(digest))
          return { size, outcome: 'shared', open: notForHead }
        }
        return { size: await confirm(ctx, digest), outcome: 'passthrough', open: notForHead }
      }
      const fill = await fills
        .open(digest, src)
        .catch((err) => {
          // A fill someone else started, with other credentials, was refused: ours may not be.
          if (inflight && upstreamRefused(err)) return fills.open(digest, src)
          throw err
        })
        .catch(mapUpstream(digest))
      // Leased until linked: stored but not yet linked, an rmi or prune would take it.
      const release = lease(blobs, [digest])
      fill.done
        .then(() => links.putLayer(repo, digest))
        .catch(() => {})
        .finally(release)
      const outcome: MirrorOutcome = fill === inflight ? 'shared' : 'miss'
      return {
        size: fill.size,
        outcome,
        open: async (range) => fill.read(range?.offset ?? 0, range?.length),
      }
    },
  }
}
