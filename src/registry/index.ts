/** The registry client's public surface, for code outside `src/registry`. */
export { createRegistryClient } from './client.ts'
export type {
  RegistryClient,
  RegistryClientOptions,
  RepositoryClient,
  RepositoryOptions,
} from './client.ts'
export type { Credentials } from './auth/credentials.ts'
export { parseChallenges, type Challenge } from './auth/challenge.ts'
export type { BlobOptions, BlobResponseOptions } from './blobs.ts'
export {
  configuredCredentials,
  HUB_ENDPOINT,
  lookupPullEndpoints,
  shouldFallback,
  type Endpoint,
  type RegistrySettings,
} from './endpoints.ts'
export { RegistryError, UnsupportedManifestError, type RegistryErrorDetail } from './errors.ts'
export type { Fetch, Sleep } from './fetch.ts'
export type { FetchedManifest, ResolvedManifest } from './manifests.ts'
export type { RetryOptions } from './retry.ts'
export type { MountResult, UploadOptions } from './upload.ts'
export type { Catalog, ListOptions, NextPage, TagList } from './listing.ts'
