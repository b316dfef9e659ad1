/**
 * One request with retries: the loop every registry call (token requests included) runs
 * through. Fetch failures become `RegistryError`s in Go's words; aborts stay aborts.
 */
import type { ClientContext } from './context.ts'
import { redactUrl, RegistryError, type RequestInfo } from './errors.ts'
import { isAbortError, throwIfAborted } from './fetch.ts'
import { isRetryableNetworkError, networkErrorText } from './network.ts'
import { backoffDelay, delayAfterResponse } from './retry.ts'
import { discard } from './body.ts'

/** How `sendWithRetry` treats one request. */
export interface SendOptions {
  signal?: AbortSignal
  /** Retry 408/429/5xx responses too (default); connection errors are always retried. */
  retryStatus?: boolean
  /** The registry request a token request is made for, for error wording. */
  outer?: RequestInfo
  /** Overrides the policy's number of tries (a caller with its own retry loop passes 1). */
  attempts?: number
}

/**
 * Sends the request `build()` makes (a fresh one per try, so bodies can be resent) until a
 * response arrives that is not worth retrying, or the budget is spent.
 */
export async function sendWithRetry(
  ctx: ClientContext,
  build: () => Request,
  opts: SendOptions = {}
): Promise<Response> {
  const attempts = opts.attempts ?? ctx.retry.attempts
  const policy = { ...ctx.retry, attempts }
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(opts.signal)
    const request = build()
    let res: Response
    try {
      res = await ctx.fetch(request)
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? err
      if (isAbortError(err)) throw err
      const error = networkError(request, err, opts.outer)
      if (attempt >= attempts || !isRetryableNetworkError(err)) throw error
      await ctx.sleep(backoffDelay(ctx.retry, attempt), opts.signal)
      continue
    }
    if (opts.retryStatus !== false) {
      const delay = delayAfterResponse(policy, res, attempt, ctx.now())
      if (delay !== undefined) {
        await discard(res)
        await ctx.sleep(delay, opts.signal)
        continue
      }
    }
    return res
  }
}

/** A fetch that threw, as a `RegistryError` without a status. */
export function networkError(request: Request, err: unknown, outer?: RequestInfo): RegistryError {
  return new RegistryError({
    method: request.method,
    url: redactUrl(request.url),
    text: networkErrorText(err, new URL(request.url)),
    outer,
    cause: err,
  })
}
