/**
 * Layer chain IDs, the layer store's keys in dockerd: the bottom layer's is its diff ID, each
 * one above is sha256 of "<parent chain ID> <diff ID>". `docker rmi` reports the chains whose
 * last reference it released, top first.
 */
import { sha256, type Digest } from '../oci/digest.ts'

/** Chain IDs of an image's layers, bottom first. */
export function chainIds(diffIds: readonly string[]): Digest[] {
  const out: Digest[] = []
  for (const diffId of diffIds) {
    const parent = out.at(-1)
    out.push(parent ? sha256(`${parent} ${diffId}`) : (diffId as Digest))
  }
  return out
}

/**
 * The chains deleting an image releases, as the layer store walks them: from the top down,
 * until one that another image still uses (then every chain below it is used as well).
 */
export function releasedChains(
  diffIds: readonly string[],
  stillUsed: ReadonlySet<string>
): Digest[] {
  const released: Digest[] = []
  for (const chain of chainIds(diffIds).reverse()) {
    if (stillUsed.has(chain)) break
    released.push(chain)
  }
  return released
}
