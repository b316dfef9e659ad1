/** Shared Engine API schemas, named as in Docker's swagger. */
import { z } from '@hono/zod-openapi'

export const ErrorResponse = z
  .object({ message: z.string() })
  .openapi('ErrorResponse', { description: 'Represents an error.' })

const ProgressDetail = z.object({ current: z.number().int().optional(), total: z.number().int().optional() })
const ErrorDetail = z.object({ code: z.number().int().optional(), message: z.string() })

export const CreateImageInfo = z
  .object({
    id: z.string().optional(),
    status: z.string().optional(),
    progressDetail: ProgressDetail.optional(),
    progress: z.string().optional(),
    errorDetail: ErrorDetail.optional(),
    error: z.string().optional(),
  })
  .openapi('CreateImageInfo', {
    description: 'One line of the newline-delimited JSON progress stream (CRLF separated).',
  })
