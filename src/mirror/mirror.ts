/**
 * The pull-through mirror as a service: the OCI /v2 read API over the same store, fills and
 * registry client as the Engine API's pulls. The HTTP layer (src/http/v2) asks `context()`
 * for each request (resolving the upstream and running the access hook), then one of the
 * services. Every outcome is reported to `observe`, the one seam for metrics.
 */
import { configuredAccess, type Authorize } from './access.ts'
import { blobService, type BlobService } from './blobs.ts'
import { createCore, type MirrorContext, type MirrorDeps } from './context.ts'
import type { MirrorKind, MirrorObserver } from './events.ts'
import { manifestService, type ManifestService } from './manifests.ts'
import { tagService, type TagService } from './tags.ts'
import { resolveUpstream } from './upstream.ts'

export type { MirrorContext, MirrorDeps } from './context.ts'

/** One request as the access hook sees it. */
export interface MirrorRequest {
  /** The `<name>` of the /v2 path. */
  name: string
  /** containerd's `?ns=` */
  ns?: string
  kind: MirrorKind
  method: string
  headers: Headers
}

/** The mirror. */
export interface Mirror {
  /** Resolves the upstream and authorizes the caller; throws a MirrorError otherwise. */
  context(req: MirrorRequest): Promise<MirrorContext>
  /** The context the admin API acts in: the config's credentials, no caller. */
  adminContext(name: string): Promise<MirrorContext>
  readonly manifests: ManifestService
  readonly blobs: BlobService
  readonly tags: TagService
  readonly observe: MirrorObserver
}

/** Builds the mirror. */
export function createMirror(deps: MirrorDeps): Mirror {
  const core = createCore(deps)
  const authorize: Authorize = deps.authorize ?? configuredAccess(deps.registries)
  const admin = configuredAccess(deps.registries)
  return {
    async context(req) {
      const upstream = resolveUpstream(req.name, req.ns, deps.registries)
      const { kind, method, headers } = req
      const credentials = await authorize({ upstream, kind, method, headers })
      return { upstream, credentials }
    },
    async adminContext(name) {
      const upstream = resolveUpstream(name, undefined, deps.registries)
      const headers = new Headers()
      const credentials = await admin({ upstream, kind: 'manifest', method: 'POST', headers })
      return { upstream, credentials }
    },
    manifests: manifestService(core),
    blobs: blobService(core),
    tags: tagService(core),
    observe: core.observe,
  }
}
