/**
 * Paginated listings: a repository's tags (`/v2/<path>/tags/list`) and the registry's
 * catalog (`/v2/_catalog`), with `n` and `last`, and the next page taken from `Link`.
 */
import type { AuthSession } from './auth/session.ts'
import { readBody, SMALL_BODY_LIMIT } from './body.ts'
import { errorFromResponse } from './classify.ts'
import type { ClientContext } from './context.ts'
import { RegistryError } from './errors.ts'
import { requestInfo, send } from './transport.ts'

// Lists of big repositories and registries run to megabytes; longer pages are refused.
const LIST_LIMIT = 256 * SMALL_BODY_LIMIT

/** Pagination for `tags()` and `catalog()`. */
export interface ListOptions {
  n?: number
  last?: string
  signal?: AbortSignal
}

/** Where the next page starts, from the registry's `Link: <…?last=x&n=10>; rel="next"`. */
export interface NextPage {
  last: string
  n?: number
}

/** One page of a repository's tags. */
export interface TagList {
  name: string
  tags: string[]
  next?: NextPage
}

/** One page of the registry's repositories. */
export interface Catalog {
  repositories: string[]
  next?: NextPage
}

/** One page of `GET <url>?n=&last=`, as parsed JSON plus the next-page pointer. */
export async function listPage(
  ctx: ClientContext,
  session: AuthSession,
  base: string,
  o: ListOptions
): Promise<{ json: Record<string, unknown>; next?: NextPage }> {
  const url = new URL(base)
  if (o.n !== undefined) url.searchParams.set('n', String(o.n))
  if (o.last !== undefined) url.searchParams.set('last', o.last)
  const request = { url: url.toString(), headers: { accept: 'application/json' }, signal: o.signal }
  const res = await send(ctx, session, request)
  if (res.status !== 200) throw await errorFromResponse(res, requestInfo(request))
  let json: Record<string, unknown>
  try {
    json = JSON.parse(new TextDecoder().decode(await readBody(res, LIST_LIMIT)))
  } catch (err) {
    throw new RegistryError({
      ...requestInfo(request),
      status: 200,
      text: `invalid listing: ${(err as Error).message}`,
      cause: err,
    })
  }
  const next = nextPage(res.headers.get('link'))
  return next ? { json, next } : { json }
}

/** The strings of a JSON array field, ignoring anything else. */
export const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []

/** `<…?last=x&n=10>; rel="next"` → `{ last: 'x', n: 10 }`. */
export function nextPage(link: string | null): NextPage | undefined {
  const m = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(link ?? '')
  if (!m) return undefined
  const params = new URL(m[1], 'http://link.invalid').searchParams
  const last = params.get('last')
  if (!last) return undefined
  const n = Number(params.get('n') ?? NaN)
  return Number.isSafeInteger(n) ? { last, n } : { last }
}
