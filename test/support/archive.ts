/** Helpers for the archive tests: streams from bytes in awkward chunkings, real tools. */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readTar } from '../../src/archive/tar-reader.ts'

/** `bytes` as a stream of `chunk`-sized pieces (1 exercises every boundary). */
export function chunked(bytes: Uint8Array, chunk = 1 << 16): ReadableStream<Uint8Array> {
  let at = 0
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= bytes.byteLength) return c.close()
      c.enqueue(bytes.slice(at, at + chunk))
      at += chunk
    },
  })
}

/** Everything a stream holds. */
export const collect = async (s: ReadableStream<Uint8Array>): Promise<Uint8Array> =>
  new Uint8Array(await new Response(s).arrayBuffer())

/** A fresh temp directory. */
export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'edgepull-archive-'))

/** Runs a command, failing the test with its stderr when it fails. */
export function run(cmd: string[], cwd?: string): string {
  const p = Bun.spawnSync(cmd, { cwd, stdout: 'pipe', stderr: 'pipe' })
  if (p.exitCode !== 0) throw new Error(`${cmd.join(' ')}: ${p.stderr.toString()}`)
  return p.stdout.toString()
}

/** A file's bytes. */
export const fileBytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path))

/** Every entry of an archive with its body as text (links show their target). */
export async function listTar(
  input: ReadableStream<Uint8Array>
): Promise<
  { name: string; type: string; body: string; bytes: Uint8Array; linkname: string; mode: number; mtime: number }[]
> {
  const out = []
  for await (const e of readTar(input)) {
    const bytes = await collect(e.body)
    const body = new TextDecoder().decode(bytes)
    out.push({ name: e.name, type: e.type, body, bytes, linkname: e.linkname, mode: e.mode, mtime: e.mtime })
  }
  return out
}
