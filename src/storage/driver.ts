/**
 * The storage driver: a dumb key → bytes store, in distribution's spirit. Drivers know
 * nothing about images; `keys.ts` owns what the keys mean, and its checkKey() is the key
 * grammar every driver enforces (InvalidKeyError otherwise). Every driver passes the one
 * conformance suite in test/storage-conformance.ts.
 */

export interface ObjectInfo {
  readonly key: string
  readonly size: number
  /** Last write time, ms since the epoch. */
  readonly modified: number
}

/** A byte range already resolved against the object's size: bytes [offset, offset+length). */
export interface ByteRange {
  readonly offset: number
  readonly length: number
}

export interface ObjectBody {
  readonly info: ObjectInfo
  /** What the body holds: the whole object unless a range was asked for. */
  readonly range: ByteRange
  readonly body: ReadableStream<Uint8Array>
}

export interface PutOptions {
  /**
   * Expected size. Drivers that need it up front (R2) require it; the others check it.
   * A body that is shorter or longer fails the put and leaves nothing behind.
   */
  readonly size?: number
  /** Expected `sha256:<hex>`; a mismatch fails the put and leaves nothing behind. */
  readonly sha256?: string
  /** Aborts the write; the partial object is discarded. */
  readonly signal?: AbortSignal
  /**
   * Honoured by drivers whose `partialReads` is true, ignored by the others: called as the put
   * writes, with how many bytes are written so far and a reader over them, so that an object
   * can be read back before it commits (the mirror's fills). The reader may fail once the put
   * has settled (its temporary data is gone); read the committed object then.
   */
  readonly onWritten?: (written: number, read: PartialRead) => void
  /**
   * Called by drivers that check size and digest themselves (fs, memory; R2 leaves the check
   * to its commit) once every byte is written and matched, before the put commits (the fs
   * driver still syncs and renames). From then on every byte may be handed out, the last one
   * included; the object itself becomes visible only when the put resolves.
   */
  readonly onVerified?: () => void
}

/** Reads bytes [offset, offset+length) of a put in progress, within what onWritten reported. */
export type PartialRead = (offset: number, length: number) => Promise<Uint8Array>

export interface StorageDriver {
  /** `memory`, `fs`, `r2`: used in logs and error messages. */
  readonly name: string
  /** True when put() honours `PutOptions.onWritten` (fs, memory; not R2). */
  readonly partialReads?: boolean
  stat(key: string): Promise<ObjectInfo | null>
  /**
   * `range` must lie within the object (callers resolve Range headers first), else
   * StorageError. The body holds nothing open until first read: a GET handler reused for
   * HEAD drops it unread.
   */
  get(key: string, range?: ByteRange): Promise<ObjectBody | null>
  /**
   * Streams `body` into `key` and makes it visible only once complete and verified,
   * replacing any previous object atomically. Readers never see partial content. Rejects
   * with DigestMismatchError (size or sha256), the body's own error, or the signal's reason.
   */
  put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, opts?: PutOptions): Promise<ObjectInfo>
  /** Removes `key`; true when something was there. */
  delete(key: string): Promise<boolean>
  /** Keys starting with `prefix`, a plain string prefix as in R2 (`a/b` lists `a/bc/d`). */
  list(prefix: string): AsyncIterable<string>
  /** The driver's private staging area, when it has one (fs: `.tmp/`), for the verifier. */
  readonly scratch?: Scratch
}

/** Something in a driver's staging area: a file or a directory of them. */
export interface ScratchEntry {
  readonly name: string
  /** Bytes, a directory's files summed. */
  readonly size: number
  readonly modified: number
}

/** Leftovers of interrupted writes in a driver's private staging area. */
export interface Scratch {
  /** Entries no live writer can be using (a crashed process's, or untouched for long). */
  strays(): AsyncIterable<ScratchEntry>
  remove(name: string): Promise<void>
}

export class StorageError extends Error {
  override name = 'StorageError'
}
