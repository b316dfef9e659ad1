/**
 * Image references exactly as Docker parses them (distribution/reference v0.6):
 * grammar, normalisation (docker.io, library/), familiar form and error wording.
 * See ../shared/reference/image-api-notes.md §7.1–7.2.
 */
import type { Digest } from './digest.ts'

/** A normalised reference: `domain/path[:tag][@digest]`. */
export interface Reference {
  /** Registry host[:port], `docker.io` for Docker Hub. */
  readonly domain: string
  /** Repository path inside the registry, e.g. `library/busybox`. */
  readonly path: string
  readonly tag?: string
  readonly digest?: Digest
}

export class InvalidReferenceError extends Error {
  override name = 'InvalidReferenceError'
}

// IMPLEMENTATION PENDING (helper): parseNormalizedNamed, parseAnyReference, familiar forms.
