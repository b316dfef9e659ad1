/**
 * The two word-level passes of the Dockerfile parser that `changes` instructions go through
 * (buildkit's parser.parseWords and shell.Lex.ProcessWord): splitting a line into words with
 * quotes kept, then removing quotes and escapes and expanding `$VAR` from the config's Env.
 */

/** Splits on whitespace outside quotes; quotes and backslashes stay in the words. */
export function splitWords(rest: string): string[] {
  const words: string[] = []
  let word = ''
  let quote = ''
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i]!
    if (!quote && /\s/.test(ch)) {
      if (word) words.push(word)
      word = ''
      continue
    }
    if (ch === '\\' && quote !== "'" && i + 1 < rest.length) {
      word += ch + rest[++i]
      continue
    }
    if (quote && ch === quote) quote = ''
    else if (!quote && (ch === '"' || ch === "'")) quote = ch
    word += ch
  }
  if (word) words.push(word)
  return words
}

/** `KEY=value` pairs from an env list, last one winning, as the builder looks them up. */
export function envMap(env: readonly string[] | null | undefined): Map<string, string> {
  const map = new Map<string, string>()
  for (const kv of env ?? []) {
    const eq = kv.indexOf('=')
    if (eq > 0) map.set(kv.slice(0, eq), kv.slice(eq + 1))
  }
  return map
}

/** Removes quotes and escapes and expands `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR:+word}`. */
export function processWord(word: string, env: Map<string, string>): string {
  let out = ''
  let i = 0
  const expand = (): string => {
    // at a `$`
    if (word[i + 1] === '{') {
      const close = word.indexOf('}', i + 2)
      if (close < 0) throw new Error(`missing '}' in ${word}`)
      const inner = word.slice(i + 2, close)
      i = close + 1
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::([-+])(.*))?$/s.exec(inner)
      if (!m) throw new Error(`failed to process "${word}": unsupported modifier in \${${inner}}`)
      const value = env.get(m[1]!) ?? ''
      if (m[2] === '-') return value || processWord(m[3]!, env)
      if (m[2] === '+') return value ? processWord(m[3]!, env) : ''
      return value
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(word.slice(i + 1))
    if (!m) {
      i++
      return '$'
    }
    i += 1 + m[0].length
    return env.get(m[0]) ?? ''
  }
  while (i < word.length) {
    const ch = word[i]!
    if (ch === "'") {
      const close = word.indexOf("'", i + 1)
      if (close < 0) {
        throw new Error('unexpected end of statement while looking for matching single-quote')
      }
      out += word.slice(i + 1, close)
      i = close + 1
    } else if (ch === '"') {
      i++
      for (;;) {
        if (i >= word.length) {
          throw new Error('unexpected end of statement while looking for matching double-quote')
        }
        const c = word[i]!
        if (c === '"') break
        if (c === '\\' && '"\\$'.includes(word[i + 1] ?? '')) {
          out += word[i + 1]
          i += 2
        } else if (c === '$') out += expand()
        else {
          out += c
          i++
        }
      }
      i++
    } else if (ch === '\\') {
      out += word[i + 1] ?? ''
      i += 2
    } else if (ch === '$') out += expand()
    else {
      out += ch
      i++
    }
  }
  return out
}
