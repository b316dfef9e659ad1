/**
 * The pull-through mirror as a service: the OCI /v2 read API over the same store, fills and
 * registry client as the Engine API's pulls. The HTTP layer (src/http/v2) asks `context()`
 * for each request (resolving the upstream and running the access hook), then one of the
 * services, whose answers are cleared for the caller before they are handed out (see
 * clearance.ts). Every outcome is reported to `observe`, the one seam for metrics.
 */
import type { Digest } from '../oci/digest.ts'
import type { Credentials } from '../registry/auth/credentials.ts'
import { callerAccess, configuredAccess, type Authorize } from './access.ts'
import { blobService, type BlobService } from './blobs.ts'
import { callerOf, type Caller } from './caller.ts'
import { clear } from './clearance.ts'
import { createCore, type Core, type MirrorContext, type MirrorDeps } from './context.ts'
import type { MirrorKind, MirrorObserver } from './events.ts'
import { manifestService, type ManifestService } from './manifests.ts'
import { tagService, type TagService } from './tags.ts'
import { createTokenSealer, type IssuedToken } from './tokens.ts'
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
  /** Who sent `headers` (for `GET /v2/` and `/v2/token`); throws 401 for a bad token. */
  caller(headers: Headers): Promise<Caller>
  /** Seals `credentials` (or nobody) into a token for `/v2/token`. */
  issueToken(credentials: Credentials | undefined): Promise<IssuedToken>
  readonly manifests: ManifestService
  readonly blobs: BlobService
  readonly tags: TagService
  readonly observe: MirrorObserver
}

/** Builds the mirror. */
export function createMirror(deps: MirrorDeps): Mirror {
  const core = createCore(deps)
  const tokens = createTokenSealer(deps.tokenSecret, core.now)
  const authorize: Authorize = deps.authorize ?? callerAccess(deps.registries, tokens)
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
    caller: (headers) => callerOf(headers, tokens),
    async issueToken(credentials) {
      const issued = await tokens.issue(credentials)
      core.observe({ type: 'token', anonymous: !credentials })
      return issued
    },
    ...clearedServices(core),
    observe: core.observe,
  }
}

/** The services, each answer cleared for its caller before it is handed out. */
function clearedServices(core: Core): Pick<Mirror, 'manifests' | 'blobs' | 'tags'> {
  const manifests = manifestService(core)
  const blobs = blobService(core)
  const tags = tagService(core)
  return {
    manifests: {
      async get(ctx, ref, head) {
        const answer = await manifests.get(ctx, ref, head)
        await clear(core, ctx, { kind: 'manifest', ref })
        return answer
      },
      // The admin API's: it acts with the config's credentials on behalf of no caller.
      refresh: manifests.refresh,
      purge: manifests.purge,
    },
    blobs: {
      async get(ctx, digest, head) {
        const answer = await blobs.get(ctx, digest, head)
        await clear(core, ctx, { kind: 'blob', digest: digest as Digest })
        return answer
      },
    },
    tags: {
      async list(ctx, page) {
        const answer = await tags.list(ctx, page)
        await clear(core, ctx, { kind: 'tags' })
        return answer
      },
    },
  }
}
