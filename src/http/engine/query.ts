/**
 * Query parameters as moby reads them (image-api-notes §1.6), shared by the Engine routes:
 * FormValue (the first of repeated values), Docker booleans, `filters` JSON, JSON platforms,
 * and the per-route minimum API version.
 */
import { z } from '@hono/zod-openapi'
import { FilterArgs } from '../../images/filters.ts'
import { parseJsonPlatform, type PlatformSpec } from '../../oci/platform.ts'
import { compareVersions } from '../api-version.ts'
import { EngineError } from '../errors.ts'

const first = (v: unknown) => (Array.isArray(v) ? v[0] : v)
const all = (v: unknown) => (v === undefined || Array.isArray(v) ? v : [v])

/** A parameter read with FormValue: repeated, the first value counts. */
export const formValue = (description: string, example?: string) =>
  z
    .preprocess(first, z.string().optional())
    .openapi({ type: 'string', description, ...(example !== undefined && { example }) })

/** A required parameter read with FormValue: the first of repeated values. */
export const requiredFormValue = (description: string, example: string) =>
  z.preprocess(first, z.string()).openapi({ type: 'string', description, example })

/** A Docker boolean: empty, `0`, `no`, `false` and `none` are false, anything else true. */
export const formBool = (description: string) =>
  z.preprocess(first, z.string().optional()).openapi({
    type: 'string',
    description: `${description}. Empty, \`0\`, \`no\`, \`false\` and \`none\` are false`,
    example: '1',
  })

/** A parameter that may repeat (`platforms`), always as a list. */
export const formValues = (description: string) =>
  z
    .preprocess(all, z.array(z.string()).optional())
    .openapi({ type: 'array', items: { type: 'string' }, description })

/** The `filters` parameter: a JSON object of filter name → set of values. */
export const filtersParam = (description: string, example: string) =>
  formValue(
    `JSON-encoded filters (\`{"name":{"value":true}}\` or \`{"name":["value"]}\`): ${description}`,
    example
  )

/** httputils.BoolValue. */
export function dockerBool(value: string | undefined): boolean {
  const v = (value ?? '').trim().toLowerCase()
  return !['', '0', 'no', 'false', 'none'].includes(v)
}

/** httputils.BoolValueOrDefault: `fallback` only when the parameter is absent. */
export const dockerBoolOr = (value: string | undefined, fallback: boolean): boolean =>
  value === undefined ? fallback : dockerBool(value)

/** filters.FromJSON; bad JSON and bad shapes are 400 `invalid filter`. */
export const parseFilters = (raw: string | undefined): FilterArgs => FilterArgs.fromJSON(raw)

/** One JSON platform (`{"os":"linux","architecture":"arm64"}`); 400 in Docker's words. */
export function parsePlatformParam(raw: string | undefined): PlatformSpec | undefined {
  if (!raw) return undefined
  try {
    return parseJsonPlatform(raw)
  } catch (err) {
    throw new EngineError(400, (err as Error).message)
  }
}

/** Whether the request's API version is at least `min`. */
export const atLeast = (version: string, min: string): boolean => compareVersions(version, min) >= 0

/** A route's minimum API version, refused as moby's router refuses it. */
export function requireVersion(version: string, min: string, method: string, path: string): void {
  if (!atLeast(version, min)) {
    throw new EngineError(400, `${method} ${path} requires minimum API version ${min}`)
  }
}
