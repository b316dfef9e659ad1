/**
 * A streaming tar reader: entries come one at a time, each with a body stream over the
 * archive's own bytes. Nothing is buffered beyond the chunk being handed out, so the consumer
 * decides where a body goes. PAX records and GNU long names are applied to the entry they
 * precede; global PAX headers are skipped. Names are returned as stored: callers check them
 * (see paths.ts).
 */
import { ByteReader } from './byte-reader.ts'
import { BLOCK, padded, TarError, type TarHeader, type TarType } from './tar-header.ts'
import { decodeHeader, HeaderFolding, isZeroBlock } from './tar-parse.ts'

/** An entry being read. Its body must be read to the end or abandoned before the next entry. */
export interface TarReadEntry extends TarHeader {
  body: ReadableStream<Uint8Array>
}

/** Limits for readTar. */
export interface ReadTarOptions {
  /** Largest PAX header or GNU long name accepted, in bytes (they are read into memory). */
  maxMetadata?: number
}

const TYPES: Record<string, TarType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '5': 'directory',
}

/**
 * Reads `input` as a tar archive. The archive ends at the first zero block, or at the end of
 * the input between entries (as Go's reader allows); the rest of the input is not read.
 */
export async function* readTar(
  input: ReadableStream<Uint8Array>,
  { maxMetadata = 1 << 20 }: ReadTarOptions = {}
): AsyncGenerator<TarReadEntry, void, undefined> {
  const r = new ByteReader(input)
  const folding = new HeaderFolding()

  const readMetadata = async (size: number): Promise<Uint8Array> => {
    if (size > maxMetadata) throw new TarError(`archive/tar: extended header of ${size} bytes`)
    const bytes = (await r.readExact(size)) ?? new Uint8Array(0)
    await r.skip(padded(size) - size)
    return bytes
  }

  try {
    for (;;) {
      const block = await r.readExact(BLOCK)
      if (!block || isZeroBlock(block)) return
      const raw = decodeHeader(block)
      if (HeaderFolding.isMetadata(raw.flag)) {
        folding.metadata(raw.flag, await readMetadata(raw.size))
        continue
      }
      const { name, linkname, size, paxMtime } = folding.entry(raw)
      let type = TYPES[raw.flag] ?? 'other'
      if (raw.flag === '\0' && name.endsWith('/')) type = 'directory'

      let remaining = size
      let current = true
      const body = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            if (!current) throw new TarError('tar entry body read after moving to the next entry')
            if (remaining === 0) return controller.close()
            const chunk = await r.read(remaining)
            if (!chunk) throw new TarError('unexpected EOF')
            remaining -= chunk.byteLength
            controller.enqueue(chunk)
            if (remaining === 0) controller.close()
          },
        },
        { highWaterMark: 0 }
      )
      yield {
        name,
        type,
        size,
        mode: raw.mode,
        mtime: paxMtime === undefined ? raw.mtime : Math.floor(Number(paxMtime)),
        linkname,
        body,
      }
      current = false
      await r.skip(remaining + padded(size) - size)
    }
  } finally {
    r.cancel()
  }
}
