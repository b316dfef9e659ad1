/**
 * `GET /images/search`'s `filters`: moby's filters.Args JSON (`{"stars":{"3":true}}`, or the
 * legacy `{"stars":["3"]}`) checked as registry.Service.Search checks it, with its wording.
 */
import { ImageError } from './errors.ts'

/** What the search filters ask for; an absent key does not filter. */
export interface SearchFilters {
  isOfficial?: boolean
  isAutomated?: boolean
  /** Minimum star count (the largest of the `stars` values). */
  stars?: number
}

const ACCEPTED = new Set(['is-official', 'is-automated', 'stars'])

const invalid = (message: string) => new ImageError(400, message)

/** The value sets of a filters parameter: `{"a":{"x":true}}` and `{"a":["x"]}` alike. */
export function parseFilterArgs(json: string | undefined): Map<string, string[]> {
  const args = new Map<string, string[]>()
  if (!json) return args
  let raw: unknown
  try {
    raw = JSON.parse(json)
  } catch {
    throw invalid('invalid filter')
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('invalid filter')
  for (const [key, values] of Object.entries(raw)) {
    if (Array.isArray(values) && values.every((v) => typeof v === 'string')) {
      args.set(key, values)
    } else if (typeof values === 'object' && values !== null && !Array.isArray(values)) {
      // Go decodes into map[string]bool: the keys count, whatever their values.
      if (!Object.values(values).every((v) => typeof v === 'boolean')) throw invalid('invalid filter')
      args.set(key, Object.keys(values))
    } else {
      throw invalid('invalid filter')
    }
  }
  return args
}

/** filters.Args.GetBoolOrDefault: exactly one of true/1 or false/0 must be present. */
function boolFilter(key: string, values: string[]): boolean {
  if (values.length === 0) throw invalid(`invalid filter '${key}'`)
  const isTrue = values.includes('true') || values.includes('1')
  const isFalse = values.includes('false') || values.includes('0')
  if (isTrue === isFalse) throw invalid(`invalid filter '${key}=[${values.join(' ')}]'`)
  return isTrue
}

/** Go's strconv.Atoi on a decimal string. */
function atoi(s: string): number | undefined {
  return /^[+-]?\d+$/.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : undefined
}

/** Parses and validates `filters` for a search; 400 `invalid filter …` as moby words it. */
export function parseSearchFilters(json: string | undefined): SearchFilters {
  const args = parseFilterArgs(json)
  for (const key of args.keys()) {
    if (!ACCEPTED.has(key)) throw invalid(`invalid filter '${key}'`)
  }
  const filters: SearchFilters = {}
  const automated = args.get('is-automated')
  if (automated) filters.isAutomated = boolFilter('is-automated', automated)
  const official = args.get('is-official')
  if (official) filters.isOfficial = boolFilter('is-official', official)
  const stars = args.get('stars')
  if (stars) {
    filters.stars = 0
    for (const s of stars) {
      const n = atoi(s)
      if (n === undefined) {
        throw invalid(`invalid filter 'stars=${s}': strconv.Atoi: parsing "${s}": invalid syntax`)
      }
      filters.stars = Math.max(filters.stars, n)
    }
  }
  return filters
}
