/**
 * Response schemas of the image-management routes, named as in Docker's swagger. They
 * document what the routes send at API 1.50/1.51; older versions add the legacy keys the
 * descriptions mention.
 */
import { z } from '@hono/zod-openapi'
import { ErrorResponse } from './schemas.ts'

/** An error response: `{"message"}`. */
export const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorResponse } },
})

const labels = z.record(z.string(), z.string())

/** One image in GET /images/json. */
export const ImageSummary = z
  .object({
    Containers: z.number().int().openapi({
      description: 'Containers using the image: 0, none run here (-1 before API 1.51)',
    }),
    Created: z.number().int().openapi({ description: 'Unix seconds, from the image config' }),
    Id: z
      .string()
      .openapi({ description: 'The config digest', example: `sha256:${'ec3f'.repeat(16)}` }),
    Labels: labels.nullable(),
    ParentId: z.string().openapi({ description: 'Empty: pulled images have no local parent' }),
    RepoDigests: z.array(z.string()).openapi({ example: [`busybox@sha256:${'afcc'.repeat(16)}`] }),
    RepoTags: z.array(z.string()).openapi({ example: ['busybox:latest'] }),
    SharedSize: z.number().int().openapi({
      description: 'Bytes of layers other images hold too; -1 unless `shared-size`',
    }),
    Size: z.number().int().openapi({ description: 'Sum of the (compressed) layer sizes' }),
    VirtualSize: z.number().int().optional().openapi({ description: 'Before API 1.44: Size' }),
  })
  .openapi('ImageSummary', {
    description:
      'Before API 1.43 an image with no references lists `<none>:<none>` and `<none>@<none>`.',
  })

/** The runtime config inside ImageInspect. */
export const ImageConfig = z
  .object({
    User: z.string(),
    ExposedPorts: z.record(z.string(), z.object({})).nullable().optional(),
    Env: z.array(z.string()).nullable(),
    Cmd: z.array(z.string()).nullable(),
    Healthcheck: z.record(z.string(), z.unknown()).optional(),
    ArgsEscaped: z.boolean().optional(),
    Volumes: z.record(z.string(), z.object({})).nullable(),
    WorkingDir: z.string(),
    Entrypoint: z.array(z.string()).nullable(),
    OnBuild: z.array(z.string()).nullable(),
    Labels: labels.nullable(),
    StopSignal: z.string().optional(),
    Shell: z.array(z.string()).optional(),
  })
  .openapi('ImageConfig', {
    description:
      'Keys sorted. Before API 1.50 also the empty container fields (Hostname, AttachStdin, …).',
  })

/** ImageInspect's GraphDriver. */
export const DriverData = z
  .object({ Data: z.record(z.string(), z.string()).nullable(), Name: z.string() })
  .openapi('DriverData', { description: 'No graph driver unpacks layers here: Data is null.' })

/** GET /images/{name}/json. */
export const ImageInspect = z
  .object({
    Id: z.string(),
    RepoTags: z.array(z.string()),
    RepoDigests: z.array(z.string()),
    Parent: z.string(),
    Comment: z.string(),
    Created: z.string().optional().openapi({ example: '2024-01-27T00:30:56.150769184Z' }),
    DockerVersion: z.string(),
    Author: z.string(),
    Config: ImageConfig,
    Architecture: z.string(),
    Variant: z.string().optional(),
    Os: z.string(),
    OsVersion: z.string().optional(),
    Size: z.number().int().openapi({ description: 'Sum of the (compressed) layer sizes' }),
    GraphDriver: DriverData,
    RootFS: z.object({ Type: z.string(), Layers: z.array(z.string()).optional() }),
    Metadata: z.object({
      LastTagTime: z.string().openapi({ description: '`0001-01-01T00:00:00Z` until tagged here' }),
    }),
  })
  .openapi('ImageInspect', {
    description:
      'Before API 1.45 also `Container` and `ContainerConfig`; before 1.44 `VirtualSize`.',
  })

/** One entry of GET /images/{name}/history. */
export const ImageHistoryResponseItem = z
  .object({
    Id: z.string().openapi({ description: 'The image ID on the top entry, `<missing>` below' }),
    Created: z.number().int(),
    CreatedBy: z.string(),
    Tags: z.array(z.string()).nullable(),
    Size: z.number().int().openapi({ description: 'Compressed layer size; 0 for empty layers' }),
    Comment: z.string(),
  })
  .openapi('ImageHistoryResponseItem')

/** One thing DELETE /images/{name} or prune did. */
export const ImageDeleteResponseItem = z
  .object({
    Untagged: z.string().optional().openapi({ description: 'A reference that was removed' }),
    Deleted: z.string().optional().openapi({ description: 'The image, or a layer chain, deleted' }),
  })
  .openapi('ImageDeleteResponseItem')

/** POST /images/prune. */
export const ImagePruneResponse = z
  .object({
    ImagesDeleted: z.array(ImageDeleteResponseItem).nullable(),
    SpaceReclaimed: z.number().int().openapi({ description: 'Bytes of blobs the store freed' }),
  })
  .openapi('ImagePruneResponse')
