/**
 * Docker's `filters` argument (api/types/filters.Args): a JSON object of filter name → set
 * of values, `{"dangling":{"true":true}}`, or the legacy `{"dangling":["true"]}`. Errors are
 * moby's invalidFilter, a 400.
 */
import { ImageError } from './errors.ts'

/** moby's invalidFilter: `invalid filter`, `invalid filter 'foo'`, `invalid filter 'a=[b c]'`. */
export class InvalidFilterError extends ImageError {
  override name = 'InvalidFilterError'
  constructor(filter?: string, values?: string[]) {
    let msg = 'invalid filter'
    if (filter !== undefined) msg += ` '${filter}${values ? `=[${values.join(' ')}]` : ''}'`
    super(400, msg)
  }
}

/** Parsed filters. Keys keep the order they came in, so errors name the first bad one. */
export class FilterArgs {
  private constructor(private readonly fields: Map<string, Map<string, boolean>>) {}

  /** No filters. */
  static empty(): FilterArgs {
    return new FilterArgs(new Map())
  }

  /** filters.FromJSON: empty means none; anything but a set or list object is `invalid filter`. */
  static fromJSON(raw: string | undefined): FilterArgs {
    if (!raw) return FilterArgs.empty()
    let json: unknown
    try {
      json = JSON.parse(raw)
    } catch {
      throw new InvalidFilterError()
    }
    if (json === null) return FilterArgs.empty()
    if (typeof json !== 'object' || Array.isArray(json)) throw new InvalidFilterError()
    // Go tries the set form for the whole object, then the legacy list form; never a mix.
    const entries = Object.entries(json)
    const form = entries.every(([, v]) => isSet(v))
      ? 'set'
      : entries.every(([, v]) => isList(v))
        ? 'list'
        : null
    if (!form) throw new InvalidFilterError()
    const fields = new Map<string, Map<string, boolean>>()
    for (const [key, value] of entries) {
      const set = new Map<string, boolean>()
      if (form === 'set') for (const [v, on] of Object.entries(value ?? {})) set.set(v, on === true)
      else for (const v of (value as string[] | null) ?? []) set.set(v, true)
      fields.set(key, set)
    }
    return new FilterArgs(fields)
  }

  /** Adds one value (the legacy `filter` parameter becomes a `reference`). */
  add(key: string, value: string): void {
    const set = this.fields.get(key) ?? new Map<string, boolean>()
    set.set(value, true)
    this.fields.set(key, set)
  }

  /** Whether the filter was given at all, even with no values. */
  has(key: string): boolean {
    return this.fields.has(key)
  }

  /** The filter's values. */
  get(key: string): string[] {
    return [...(this.fields.get(key)?.keys() ?? [])]
  }

  /** Args.Validate: the first filter not in `accepted` is `invalid filter '<name>'`. */
  validate(accepted: readonly string[]): void {
    for (const key of this.fields.keys()) {
      if (!accepted.includes(key)) throw new InvalidFilterError(key)
    }
  }

  /** Args.GetBoolOrDefault: exactly one of `true`/`1` or `false`/`0`, else invalid filter. */
  boolOrDefault(key: string, fallback: boolean): boolean {
    const set = this.fields.get(key)
    if (!set) return fallback
    if (set.size === 0) throw new InvalidFilterError(key)
    const isFalse = set.get('0') === true || set.get('false') === true
    const isTrue = set.get('1') === true || set.get('true') === true
    if (isFalse === isTrue) throw new InvalidFilterError(key, this.get(key))
    return isTrue
  }

  /** Args.MatchKVList: every `k` or `k=v` value is in `labels`; true when the filter is empty. */
  matchKVList(key: string, labels: Record<string, string> | null | undefined): boolean {
    const values = this.get(key)
    if (values.length === 0) return true
    if (!labels || Object.keys(labels).length === 0) return false
    return values.every((value) => {
      const eq = value.indexOf('=')
      const k = eq < 0 ? value : value.slice(0, eq)
      if (!Object.hasOwn(labels, k)) return false
      return eq < 0 || labels[k] === value.slice(eq + 1)
    })
  }
}

const isSet = (v: unknown): boolean =>
  v === null ||
  (typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.values(v).every((b) => typeof b === 'boolean' || b === null))

const isList = (v: unknown): boolean =>
  v === null || (Array.isArray(v) && v.every((s) => typeof s === 'string'))
