/**
 * Pull failures in Docker's words (image-api-notes §5.3). The registry client reports what
 * the registry said; this file knows which reference was being pulled and how dockerd
 * phrases each case, and which HTTP status the Engine API answers with.
 */
import { familiarName, familiarString, type Reference } from '../oci/reference.ts'
import { RegistryError } from '../registry/errors.ts'

/** An error with the Engine API status it maps to; its message is shown to the user as is. */
export class PullError extends Error {
  override name = 'PullError'
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown }
  ) {
    super(message, options)
  }
}

/** Translates anything the registry side threw while resolving or fetching `ref`. */
export function toPullError(err: unknown, ref: Reference): PullError {
  if (err instanceof PullError) return err
  if (err instanceof RegistryError) {
    const code = err.errors[0]?.code
    const text = err.dockerText()
    switch (code) {
      case 'MANIFEST_UNKNOWN':
        return new PullError(404, `manifest for ${familiarString(ref)} not found: ${text}`, { cause: err })
      case 'DENIED':
        return new PullError(
          404,
          `pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ${text}`,
          { cause: err }
        )
      case 'NAME_UNKNOWN':
        return new PullError(404, `repository ${familiarName(ref)} not found: ${text}`, { cause: err })
      case 'UNAUTHORIZED':
        return new PullError(401, text, { cause: err })
      case 'TOOMANYREQUESTS':
        return new PullError(429, text, { cause: err })
    }
    if (err.status === 404) return new PullError(404, text, { cause: err })
    return new PullError(500, text, { cause: err })
  }
  const message = err instanceof Error ? err.message : String(err)
  return new PullError(500, message, { cause: err })
}
