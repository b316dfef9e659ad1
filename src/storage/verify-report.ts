/**
 * What the store verifier (verify.ts) finds, and how the CLI and the admin route put it.
 */

/** Kinds of problem, each with what repairing it does. */
export type ProblemKind =
  /** A blob whose bytes do not hash to its digest, or cannot be read: removed. */
  | 'corrupt-blob'
  /** A key no part of edgepull writes (a foreign file): reported, never removed. */
  | 'stray-key'
  /** An image record, Engine tag or mirror link that does not parse: removed. */
  | 'bad-record'
  /** An image record missing blobs it needs: removed (the image is pulled again). */
  | 'dangling-image'
  /** An Engine tag naming no image: removed. */
  | 'dangling-tag'
  /** A mirror tag, revision or layer link to a missing blob: removed (fetched again). */
  | 'dangling-link'
  /** An import's staging copy (`uploads/`) left by a crash: removed. */
  | 'stray-upload'
  /** A crashed writer's temp file in the driver's staging area: removed. */
  | 'stray-temp'

/** One thing found wrong. */
export interface Problem {
  kind: ProblemKind
  /** The key (or the staging entry's name) it is about. */
  key: string
  detail: string
  /** True once the repair removed it. */
  repaired: boolean
}

/** The outcome of one run over the whole store. */
export interface VerifyReport {
  driver: string
  repair: boolean
  /** What was read: blobs (each hashed in full), records, tags and mirror keys. */
  checked: { blobs: number; bytes: number; images: number; tags: number; mirrorKeys: number }
  /**
   * Sound blobs that no image record or mirror link holds: a pull, load or import that did
   * not finish. Not a problem (the next try reuses them; eviction frees them under a budget).
   */
  unreferenced: { blobs: number; bytes: number }
  problems: Problem[]
  /** No problem left: none found, or every one repaired. */
  clean: boolean
}

/** `kind key: detail`, and `(removed)` once repaired: one line per problem. */
export const problemLine = (p: Problem): string =>
  `${p.kind} ${p.key}: ${p.detail}${p.repaired ? ' (removed)' : ''}`

/** The closing line. */
export function summaryLine(r: VerifyReport): string {
  const { blobs, bytes, images, tags, mirrorKeys } = r.checked
  const found = r.problems.length
  const fixed = r.problems.filter((p) => p.repaired).length
  const outcome = found === 0 ? 'clean' : `${found} problem${found === 1 ? '' : 's'}`
  const repaired = r.repair ? `, ${fixed} repaired` : ''
  return (
    `${r.driver} store ${outcome}${repaired}: ${blobs} blobs (${bytes} bytes) hashed, ` +
    `${images} images, ${tags} tags, ${mirrorKeys} mirror keys; ` +
    `${r.unreferenced.blobs} blobs (${r.unreferenced.bytes} bytes) unreferenced`
  )
}
