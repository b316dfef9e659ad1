/** Image-service errors, each with the Engine API status it maps to and moby's wording. */

export class ImageError extends Error {
  override name = 'ImageError'
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413 | 500,
    message: string,
    options?: { cause?: unknown }
  ) {
    super(message, options)
  }
}

export const noSuchImage = (what: string) => new ImageError(404, `No such image: ${what}`)
