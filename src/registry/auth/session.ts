/**
 * The authorization state of one (endpoint, scope, identity): what the registry asked for
 * (from the `/v2/` ping, or a later 401) and the header that answers it. Bearer tokens come
 * from the client-wide cache; Basic credentials go on every request.
 */
import type { ClientContext } from '../context.ts'
import type { Endpoint } from '../endpoints.ts'
import { RegistryError, redactUrl, type RequestInfo } from '../errors.ts'
import { raceAbort } from '../fetch.ts'
import { hostnameOf } from '../hosts.ts'
import { discard } from '../body.ts'
import { sendWithRetry } from '../send.ts'
import { preferredChallenge, responseChallenges, type Challenge } from './challenge.ts'
import { basicAuthorization, identityKey, type Credentials } from './credentials.ts'
import { requestToken } from './token.ts'

// dockerd's ping client gives up after 15 s and does not retry; one retry covers a reset.
const PING_TIMEOUT_MS = 15_000
const PING_ATTEMPTS = 2

/** Authorization for requests to one repository scope on one endpoint, as one identity. */
export class AuthSession {
  /** Challenges learned from a 401 after the ping; they win over the ping's. */
  private learned: Challenge[] | undefined
  private readonly identity: string

  constructor(
    private readonly ctx: ClientContext,
    readonly endpoint: Endpoint,
    /** `repository:<path>:pull[,push]`. */
    readonly scope: string,
    private readonly credentials: Credentials | undefined
  ) {
    this.identity = identityKey(credentials)
  }

  /** The `Authorization` value for `request` (undefined: anonymous is what was asked for). */
  async authorization(request: RequestInfo, signal?: AbortSignal): Promise<string | undefined> {
    const challenge = preferredChallenge(this.learned ?? (await raceAbort(this.ping(), signal)))
    if (!challenge) return undefined
    if (challenge.scheme === 'basic') {
      const basic = basicAuthorization(this.credentials)
      if (!basic) throw new RegistryError({ ...request, text: 'no basic auth credentials' })
      return basic
    }
    if (this.credentials?.registryToken) return `Bearer ${this.credentials.registryToken}`
    const { realm, service } = this.checkedRealm(challenge, request)
    const key = this.tokenKey(challenge)
    const token = this.ctx.tokens.get(key, () =>
      requestToken(
        this.ctx,
        { realm, service, scope: this.scope, credentials: this.credentials },
        request
      )
    )
    return `Bearer ${(await raceAbort(token, signal)).value}`
  }

  /**
   * Called with a 401 answer to a request sent with `used`. Forgets a rejected token and
   * learns the challenge; true when asking again with fresh authorization may succeed.
   */
  unauthorized(res: Response, used: string | undefined): boolean {
    const challenges = responseChallenges(res)
    const challenge = preferredChallenge(challenges)
    if (!challenge) return false
    if (used === undefined) {
      this.learned = challenges
      return true
    }
    // Wrong Basic credentials and pass-through tokens cannot get better by asking again.
    const fromCache = used.startsWith('Bearer ') && !this.credentials?.registryToken
    if (challenge.scheme !== 'bearer' || !fromCache) return false
    // A fresh token for the same scope would be refused the same way.
    if (challenge.params.error === 'insufficient_scope') return false
    this.ctx.tokens.invalidate(this.tokenKey(challenge), used.slice(7))
    this.learned = challenges
    return true
  }

  private tokenKey(c: Challenge): string {
    return [c.params.realm, c.params.service ?? '', this.scope, this.identity].join(' ')
  }

  /**
   * A realm must be an http(s) URL. Where it may point is the network guard's call
   * (network-guard.ts), which every request, token requests included, goes through: a
   * registry chooses where we send credentials, so a realm in private address space is
   * refused unless the config names that host.
   */
  private checkedRealm(c: Challenge, request: RequestInfo): { realm: string; service?: string } {
    const realm = c.params.realm
    let url: URL | undefined
    try {
      url = new URL(realm)
    } catch {}
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      const of = hostnameOf(new URL(this.endpoint.url).host)
      throw new RegistryError({ ...request, text: `refusing token realm "${redactUrl(realm)}" of ${of}` })
    }
    return { realm, service: c.params.service }
  }

  /** `GET /v2/` once per endpoint for the whole client; failures are not remembered. */
  private ping(): Promise<Challenge[]> {
    const cached = this.ctx.pings.get(this.endpoint.url)
    if (cached) return cached
    const url = `${this.endpoint.url}/v2/`
    const ping = sendWithRetry(
      this.ctx,
      () => new Request(url, { signal: AbortSignal.timeout(PING_TIMEOUT_MS) }),
      {
        retryStatus: false,
        attempts: Math.min(PING_ATTEMPTS, this.ctx.retry.attempts),
      }
    ).then(async (res) => {
      await discard(res)
      return responseChallenges(res)
    })
    ping.catch(() => this.ctx.pings.delete(this.endpoint.url))
    this.ctx.pings.set(this.endpoint.url, ping)
    return ping
  }
}
