/**
 * `WWW-Authenticate` parsing (RFC 9110 §11.6.1). One header may hold several challenges
 * (`Basic realm="x", Bearer realm="y",service="z"`), and quoted values may hold commas
 * (`scope="repository:a:pull,push"`) and backslash escapes. Schemes and parameter names
 * are case-insensitive and come out in lower case, as docker's challenge package does.
 */

/** One challenge: `Bearer realm="…",service="…"` → `{ scheme: 'bearer', params: {…} }`. */
export interface Challenge {
  scheme: string
  params: Record<string, string>
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t'

/** All challenges in a header value (several headers may be joined with `, `). */
export function parseChallenges(header: string | null | undefined): Challenge[] {
  const s = header ?? ''
  const out: Challenge[] = []
  let current: Challenge | undefined
  let i = 0

  const skipSpace = () => {
    while (isSpace(s[i])) i++
  }
  const token = (): string => {
    const start = i
    while (i < s.length && TCHAR.test(s[i])) i++
    return s.slice(start, i)
  }
  const quoted = (): string => {
    let value = ''
    for (i++; i < s.length && s[i] !== '"'; i++) {
      if (s[i] === '\\' && i + 1 < s.length) i++
      value += s[i]
    }
    i++ // closing quote (or past the end of an unterminated value)
    return value
  }

  while (i < s.length) {
    skipSpace()
    if (s[i] === ',') {
      i++
      continue
    }
    const name = token()
    if (!name) {
      i++ // a stray character: skip it rather than give up on the rest
      continue
    }
    skipSpace()
    if (s[i] === '=') {
      i++
      skipSpace()
      // `Negotiate abc==` style token68: nothing we use, swallow the padding.
      if (s[i] === '=' || s[i] === ',' || i >= s.length) {
        while (s[i] === '=') i++
        continue
      }
      const value = s[i] === '"' ? quoted() : token()
      if (current) current.params[name.toLowerCase()] = value
    } else {
      current = { scheme: name.toLowerCase(), params: {} }
      out.push(current)
    }
  }
  return out
}

/** The challenges of a response (`WWW-Authenticate`, all instances). */
export const responseChallenges = (res: Response): Challenge[] =>
  parseChallenges(res.headers.get('www-authenticate'))

/** The challenge dockerd would answer: Bearer before Basic, other schemes ignored. */
export function preferredChallenge(challenges: Challenge[]): Challenge | undefined {
  return (
    challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ??
    challenges.find((c) => c.scheme === 'basic')
  )
}
