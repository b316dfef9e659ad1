/**
 * Bearer tokens per (realm, service, scope, identity). Concurrent requests for the same key
 * share one token request, so a pull that starts three layer downloads at once costs one
 * token, not three. Entries live until the token expires; failures are not cached.
 */

/** A bearer token and when it stops being usable (ms since the epoch). */
export interface Token {
  value: string
  expiresAt: number
}

interface Entry {
  promise: Promise<Token>
  token?: Token
}

// Tokens about to expire are treated as expired: a request must not outlive its token.
const EXPIRY_MARGIN_MS = 5_000

/** A bounded map of token promises, oldest evicted first. */
export class TokenCache {
  private readonly entries = new Map<string, Entry>()

  constructor(
    private readonly now: () => number,
    private readonly maxEntries = 1024
  ) {}

  /** The cached token for `key`, or the one `request()` gets (shared by concurrent callers). */
  get(key: string, request: () => Promise<Token>): Promise<Token> {
    const hit = this.entries.get(key)
    if (hit && (!hit.token || hit.token.expiresAt - EXPIRY_MARGIN_MS > this.now()))
      return hit.promise
    const entry: Entry = { promise: request() }
    entry.promise.then(
      (token) => {
        entry.token = token
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key)
      }
    )
    this.entries.delete(key)
    this.entries.set(key, entry)
    if (this.entries.size > this.maxEntries) this.evict()
    return entry.promise
  }

  /** Forgets `key`'s token if it is still `value` (a 401 said it is no good). */
  invalidate(key: string, value: string): void {
    if (this.entries.get(key)?.token?.value === value) this.entries.delete(key)
  }

  private evict(): void {
    const now = this.now()
    for (const [key, e] of this.entries) {
      if (e.token && e.token.expiresAt <= now) this.entries.delete(key)
    }
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break
      this.entries.delete(key)
    }
  }
}
