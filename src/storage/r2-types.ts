/**
 * The slice of the Workers R2 binding the R2 driver uses, declared structurally so the real
 * `env.BUCKET` satisfies it without `@cloudflare/workers-types` in the project's `types`
 * (those globals clash with the DOM and Bun declarations the rest of the code checks against).
 * Names and shapes follow workers-types; only what the driver touches is here.
 */

/** A put body: R2 takes a stream only when its length is known (FixedLengthStream). */
export type R2Value = ReadableStream<Uint8Array> | Uint8Array

/** An object's metadata, as head(), put() and complete() return it. */
export interface R2Object {
  readonly key: string
  readonly size: number
  readonly etag: string
  readonly uploaded: Date
}

/** An object with its (possibly ranged) content. */
export interface R2ObjectBody extends R2Object {
  readonly body: ReadableStream<Uint8Array>
}

/** One page of list(). */
export interface R2Objects {
  readonly objects: R2Object[]
  readonly truncated: boolean
  readonly cursor?: string
}

/** What uploadPart() returns and complete() takes back. */
export interface R2UploadedPart {
  partNumber: number
  etag: string
}

/** An open multipart upload: invisible until complete(), discarded by abort(). */
export interface R2MultipartUpload {
  readonly key: string
  readonly uploadId: string
  uploadPart(partNumber: number, value: R2Value): Promise<R2UploadedPart>
  abort(): Promise<void>
  complete(uploadedParts: R2UploadedPart[]): Promise<R2Object>
}

/** A byte range as R2 takes it. R2 clamps or refuses ranges past the end: check them first. */
export interface R2Range {
  offset: number
  length: number
}

/** The bucket binding. */
export interface R2Bucket {
  head(key: string): Promise<R2Object | null>
  get(key: string, options?: { range?: R2Range }): Promise<R2ObjectBody | null>
  put(key: string, value: R2Value, options?: { sha256?: string }): Promise<R2Object | null>
  delete(keys: string | string[]): Promise<void>
  list(options?: { prefix?: string; cursor?: string; limit?: number }): Promise<R2Objects>
  createMultipartUpload(key: string): Promise<R2MultipartUpload>
}

/** workerd's FixedLengthStream: an identity transform whose readable half has a known length. */
export type FixedLengthStreamConstructor = new (expectedLength: number) => {
  readonly readable: ReadableStream<Uint8Array>
  readonly writable: WritableStream<Uint8Array>
}
