/**
 * What the mirror knows per upstream repository, in the keys src/storage/keys.ts draws:
 * tag links (which manifest a tag pointed at when last checked), revisions (manifests known
 * to belong to the repository) and layer links (blobs confirmed to belong to it). The bytes
 * themselves are blobs, shared by every repository; a link is what lets one repository serve
 * them, so a digest cached through one repository is no key to read it through another.
 */
import { isDigest, type Digest } from '../oci/digest.ts'
import type { StorageDriver } from '../storage/driver.ts'
import {
  mirrorAccessKey,
  mirrorLayerKey,
  mirrorRevisionKey,
  mirrorTagKey,
  mirrorTagsPrefix,
  tagOfMirrorTagKey,
  type RepositoryName,
} from '../storage/keys.ts'
import { readFully } from '../storage/streams.ts'

/** A tag as last confirmed upstream. */
export interface TagLink {
  digest: Digest
  mediaType: string
  size: number
  /** When upstream last confirmed it (ms since the epoch); the TTL counts from here. */
  checkedAt: number
}

/** Whether anonymous callers could read a repository upstream, and when that was seen. */
export interface AccessRecord {
  public: boolean
  /** ms since the epoch. */
  checkedAt: number
}

/** A manifest known in a repository. */
export interface RevisionLink {
  mediaType: string
  size: number
}

/** Reads and writes the per-repository links over one driver. */
export interface Links {
  getTag(repo: RepositoryName, tag: string): Promise<TagLink | null>
  putTag(repo: RepositoryName, tag: string, link: TagLink): Promise<void>
  /** True when the tag was cached. */
  deleteTag(repo: RepositoryName, tag: string): Promise<boolean>
  /** The tags cached for `repo`, sorted. */
  listTags(repo: RepositoryName): Promise<string[]>
  getRevision(repo: RepositoryName, digest: Digest): Promise<RevisionLink | null>
  putRevision(repo: RepositoryName, digest: Digest, rev: RevisionLink): Promise<void>
  hasLayer(repo: RepositoryName, digest: Digest): Promise<boolean>
  putLayer(repo: RepositoryName, digest: Digest): Promise<void>
  getAccess(repo: RepositoryName): Promise<AccessRecord | null>
  putAccess(repo: RepositoryName, record: AccessRecord): Promise<void>
}

const LINK_LIMIT = 64 * 1024
const utf8 = new TextEncoder()

/** Creates the link store over `driver`. */
export function createLinks(driver: StorageDriver): Links {
  async function readJson(key: string): Promise<Record<string, unknown> | null> {
    const o = await driver.get(key)
    if (!o) return null
    try {
      const json = JSON.parse(new TextDecoder().decode(await readFully(o.body, LINK_LIMIT, key)))
      return typeof json === 'object' && json !== null ? json : null
    } catch {
      return null // a damaged link is no link: the next request asks upstream again
    }
  }
  const writeJson = async (key: string, value: object): Promise<void> => {
    await driver.put(key, utf8.encode(JSON.stringify(value)))
  }

  return {
    async getTag(repo, tag) {
      const j = await readJson(mirrorTagKey(repo, tag))
      if (!j || typeof j.digest !== 'string' || !isDigest(j.digest)) return null
      if (typeof j.mediaType !== 'string' || typeof j.size !== 'number') return null
      const checkedAt = typeof j.checkedAt === 'number' ? j.checkedAt : 0
      return { digest: j.digest, mediaType: j.mediaType, size: j.size, checkedAt }
    },
    putTag: (repo, tag, link) => writeJson(mirrorTagKey(repo, tag), link),
    deleteTag: (repo, tag) => driver.delete(mirrorTagKey(repo, tag)),
    async listTags(repo) {
      const tags: string[] = []
      for await (const key of driver.list(mirrorTagsPrefix(repo))) {
        const tag = tagOfMirrorTagKey(key)
        if (tag) tags.push(tag)
      }
      return tags.sort()
    },
    async getRevision(repo, digest) {
      const j = await readJson(mirrorRevisionKey(repo, digest))
      if (!j || typeof j.mediaType !== 'string' || typeof j.size !== 'number') return null
      return { mediaType: j.mediaType, size: j.size }
    },
    putRevision: (repo, digest, rev) => writeJson(mirrorRevisionKey(repo, digest), rev),
    hasLayer: async (repo, digest) => (await driver.stat(mirrorLayerKey(repo, digest))) !== null,
    putLayer: (repo, digest) => writeJson(mirrorLayerKey(repo, digest), {}),
    async getAccess(repo) {
      const j = await readJson(mirrorAccessKey(repo))
      if (!j || typeof j.public !== 'boolean' || typeof j.checkedAt !== 'number') return null
      return { public: j.public, checkedAt: j.checkedAt }
    },
    putAccess: (repo, record) => writeJson(mirrorAccessKey(repo), record),
  }
}
