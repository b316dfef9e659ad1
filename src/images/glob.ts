/**
 * Go's path.Match, which Docker's `reference` filter uses: `*` is any run of characters
 * but `/`, `?` one character but `/`, `[a-z]`/`[^…]` a class, `\` escapes. A malformed
 * pattern is an error (path.ErrBadPattern), even where the match already failed.
 */

/** Go's path.ErrBadPattern. */
export class BadPatternError extends Error {
  override name = 'BadPatternError'
  constructor() {
    super('syntax error in pattern')
  }
}

/** Whether `name` matches the shell pattern `pattern` as a whole; throws BadPatternError. */
export function pathMatch(pattern: string, name: string): boolean {
  return match([...pattern], [...name])
}

function match(pattern: string[], name: string[]): boolean {
  pattern: while (pattern.length > 0) {
    const { star, chunk, rest } = scanChunk(pattern)
    pattern = rest
    if (star && chunk.length === 0) return !name.includes('/') // a trailing * eats the rest
    const here = matchChunk(chunk, name)
    // The last chunk must use up the name; otherwise the star may still find a place.
    if (here && (here.length === 0 || pattern.length > 0)) {
      name = here
      continue
    }
    if (star) {
      for (let i = 0; i < name.length && name[i] !== '/'; i++) {
        const t = matchChunk(chunk, name.slice(i + 1))
        if (t) {
          if (pattern.length === 0 && t.length > 0) continue
          name = t
          continue pattern
        }
      }
    }
    // No match, but Go still reports a malformed remainder of the pattern.
    while (pattern.length > 0) {
      const next = scanChunk(pattern)
      pattern = next.rest
      matchChunk(next.chunk, [])
    }
    return false
  }
  return name.length === 0
}

function scanChunk(pattern: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let star = false
  while (pattern[0] === '*') {
    pattern = pattern.slice(1)
    star = true
  }
  let inRange = false
  let i = 0
  scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case '\\':
        if (i + 1 < pattern.length) i++
        break
      case '[':
        inRange = true
        break
      case ']':
        inRange = false
        break
      case '*':
        if (!inRange) break scan
    }
  }
  return { star, chunk: pattern.slice(0, i), rest: pattern.slice(i) }
}

/** What is left of `s` after `chunk` matched its start, or null; throws on a bad chunk. */
function matchChunk(chunk: string[], s: string[]): string[] | null {
  let failed = false
  let c = 0
  let i = 0
  while (c < chunk.length) {
    if (!failed && i >= s.length) failed = true
    const ch = chunk[c]!
    if (ch === '[') {
      const r = failed ? '' : s[i++]!
      c++
      const negated = chunk[c] === '^'
      if (negated) c++
      let matched = false
      for (let ranges = 0; ; ranges++) {
        if (chunk[c] === ']' && ranges > 0) {
          c++
          break
        }
        const lo = escaped(chunk, c)
        let hi = lo
        c = lo.next
        if (chunk[c] === '-') {
          hi = escaped(chunk, c + 1)
          c = hi.next
        }
        if (!failed && lo.ch <= r && r <= hi.ch) matched = true
      }
      if (matched === negated) failed = true
    } else if (ch === '?') {
      if (!failed) failed = s[i++] === '/'
      c++
    } else {
      if (ch === '\\') {
        c++
        if (c >= chunk.length) throw new BadPatternError()
      }
      if (!failed && chunk[c] !== s[i++]) failed = true
      c++
    }
  }
  return failed ? null : s.slice(i)
}

/** One class bound, `\`-escapes allowed; a class must not end here (Go's getEsc). */
function escaped(chunk: string[], c: number): { ch: string; next: number } {
  if (c >= chunk.length || chunk[c] === '-' || chunk[c] === ']') throw new BadPatternError()
  if (chunk[c] === '\\') {
    c++
    if (c >= chunk.length) throw new BadPatternError()
  }
  const next = c + 1
  if (next >= chunk.length) throw new BadPatternError()
  return { ch: chunk[c]!, next }
}
