/**
 * The JSON-encoded `platform` parameter, decoded the way moby does it with Go's encoding/json,
 * including Go's error wording, since Docker returns that text to clients verbatim.
 */
import { PlatformError, platformSpec, type PlatformSpec } from './platform.ts'

/**
 * The JSON `platform` of inspect, history, load, push and delete, as moby's DecodePlatform
 * reads it (Go's encoding/json: keys match case-insensitively, null leaves a field unset).
 * Returned as given, not normalised, because Docker echoes it in messages.
 */
export function parseJsonPlatform(s: string): PlatformSpec {
  const fields = decodeGoPlatform(s)
  const { os = '', architecture = '', variant = '' } = fields
  const hasOptional = variant !== '' || fields.osVersion || (fields.osFeatures ?? 0) > 0
  if (!os && !architecture && hasOptional) {
    throw new PlatformError(
      'optional platform fields provided, but OS and Architecture are missing'
    )
  }
  if (!os || !architecture) throw new PlatformError('both OS and Architecture must be provided')
  return platformSpec(os, architecture, variant)
}

type GoPlatform = {
  os?: string
  architecture?: string
  variant?: string
  osVersion?: string
  /** How many `os.features` were given; only their presence matters here. */
  osFeatures?: number
}

// ocispec.Platform's JSON names for its string fields.
const GO_STRING_FIELDS = {
  architecture: 'architecture',
  os: 'os',
  'os.version': 'osVersion',
  variant: 'variant',
} as const
const GO_FIELD_NAMES = [...Object.keys(GO_STRING_FIELDS), 'os.features']

function decodeGoPlatform(s: string): GoPlatform {
  const fail = (msg: string) => new PlatformError(`failed to parse platform: ${msg}`)
  const mismatch = (v: unknown, field: string, type: string) =>
    `json: cannot unmarshal ${jsonKind(v)} into Go struct field Platform.${field} of type ${type}`
  let json: unknown
  try {
    json = JSON.parse(s)
  } catch (e) {
    throw fail(goSyntaxError(s, e))
  }
  if (json === null) return {}
  if (typeof json !== 'object' || Array.isArray(json)) {
    throw fail(`json: cannot unmarshal ${jsonKind(json)} into Go value of type v1.Platform`)
  }
  const out: GoPlatform = {}
  let typeError: string | undefined // Go keeps decoding and reports the first one at the end
  for (const [key, value] of Object.entries(json)) {
    // Go matches keys case-insensitively when there is no exact match.
    const name = GO_FIELD_NAMES.includes(key)
      ? key
      : GO_FIELD_NAMES.find((f) => f === key.toLowerCase())
    if (!name || value === null) continue
    if (name === 'os.features') {
      if (!Array.isArray(value)) {
        typeError ??= mismatch(value, name, '[]string')
        continue
      }
      const bad = value.find((v) => v !== null && typeof v !== 'string')
      if (bad !== undefined) typeError ??= mismatch(bad, name, 'string')
      out.osFeatures = value.length
    } else if (typeof value !== 'string') typeError ??= mismatch(value, name, 'string')
    else out[GO_STRING_FIELDS[name as keyof typeof GO_STRING_FIELDS]] = value
  }
  if (typeError) throw fail(typeError)
  return out
}

const jsonKind = (v: unknown): string =>
  Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v

/** Go's wording for the syntax errors clients actually make; JS's own text is runtime-specific. */
function goSyntaxError(s: string, e: unknown): string {
  const first = s.trimStart()[0]
  if (first === undefined) return 'unexpected end of JSON input'
  if (!/[{["\-0-9tfn]/.test(first)) {
    return `invalid character '${first}' looking for beginning of value`
  }
  if (endsInsideValue(s)) return 'unexpected end of JSON input'
  return e instanceof Error ? e.message : String(e)
}

/** True when `s` stops inside a string or an unclosed object/array, i.e. it was cut short. */
function endsInsideValue(s: string): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
  }
  return inString || depth > 0
}
