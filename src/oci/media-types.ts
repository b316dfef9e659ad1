/** Media types edgepull understands, and the Accept header it pulls manifests with. */

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerPlugin: 'application/vnd.docker.plugin.v1+json',
} as const

/** What dockerd sends when it resolves a tag: both manifest kinds, both index kinds. */
export const MANIFEST_ACCEPT = [
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
  MediaType.ociManifest,
  MediaType.ociIndex,
].join(', ')

export const isIndex = (mt: string | undefined): boolean =>
  mt === MediaType.ociIndex || mt === MediaType.dockerManifestList

export const isImageManifest = (mt: string | undefined): boolean =>
  mt === MediaType.ociManifest || mt === MediaType.dockerManifest

export const isSchema1 = (mt: string | undefined): boolean =>
  mt === MediaType.dockerSchema1 || mt === MediaType.dockerSchema1Signed

const IMAGE_CONFIGS = new Set<string>([MediaType.ociConfig, MediaType.dockerConfig])
const LAYERS = new Set<string>([
  MediaType.ociLayerGzip,
  MediaType.ociLayer,
  MediaType.ociLayerZstd,
  MediaType.dockerLayerGzip,
  MediaType.dockerForeignLayerGzip,
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
])

export const isImageConfig = (mt: string | undefined): boolean => !!mt && IMAGE_CONFIGS.has(mt)
export const isLayer = (mt: string | undefined): boolean => !!mt && LAYERS.has(mt)
