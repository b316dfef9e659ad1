/**
 * The clients the benchmark times, all external processes so the timing process carries no
 * bytes: curl to /dev/null for blobs and the Engine API pull, skopeo for the reference pull,
 * wrk for manifest load. Each is bounded in time and checked for a complete, successful answer.
 */
import { join } from 'node:path'
import { removeDir, run, tempDir } from './proc.ts'

/** One blob download: seconds by curl's own wall clock. */
export interface Download {
  status: number
  bytes: number
  seconds: number
}

const CURL_FORMAT = '%{http_code} %{size_download} %{time_total}'

/** GETs `url` into /dev/null; throws unless it is a 200 of `expectBytes`. */
export async function download(url: string, expectBytes: number, timeoutS = 300): Promise<Download> {
  const { stdout } = await run(
    'curl',
    ['-s', '-o', '/dev/null', '--max-time', String(timeoutS), '-w', CURL_FORMAT, url],
    (timeoutS + 10) * 1000
  )
  const [status, bytes, seconds] = stdout.trim().split(' ').map(Number) as [number, number, number]
  if (status !== 200 || bytes !== expectBytes) {
    throw new Error(`GET ${url}: ${status}, ${bytes} of ${expectBytes} bytes`)
  }
  return { status, bytes, seconds }
}

/** `n` clients GET `url` at once; wall time from the first start to the last byte. */
export async function downloadConcurrently(
  url: string,
  expectBytes: number,
  n: number
): Promise<{ seconds: number; slowest: number; fastest: number }> {
  const t0 = performance.now()
  const all = await Promise.all(Array.from({ length: n }, () => download(url, expectBytes)))
  const seconds = (performance.now() - t0) / 1000
  const times = all.map((d) => d.seconds)
  return { seconds, slowest: Math.max(...times), fastest: Math.min(...times) }
}

/** POST /images/create read to the end, as `docker pull` reads it; seconds. */
export async function enginePull(baseUrl: string, image: string, tag: string): Promise<number> {
  const dir = tempDir('pull-out')
  const out = join(dir, 'messages.ndjson')
  try {
    const url = `${baseUrl}/v1.50/images/create?fromImage=${encodeURIComponent(image)}&tag=${tag}`
    const { stdout } = await run(
      'curl',
      ['-s', '-X', 'POST', '-o', out, '--max-time', '600', '-w', '%{http_code} %{time_total}', url],
      610_000
    )
    const [status, seconds] = stdout.trim().split(' ').map(Number) as [number, number]
    const text = await Bun.file(out).text()
    if (status !== 200 || !text.includes('Status: Downloaded newer image')) {
      throw new Error(`pull ${image}:${tag}: ${status} ${text.slice(-300)}`)
    }
    return seconds
  } finally {
    removeDir(dir)
  }
}

/** `skopeo copy docker://host/image:tag dir:…`: seconds, and skopeo's own peak RSS in MiB. */
export async function skopeoCopy(host: string, image: string, tag: string) {
  const dir = tempDir('skopeo')
  const t0 = performance.now()
  try {
    const { stderr } = await run(
      '/usr/bin/time',
      ['-f', '%M', 'skopeo', 'copy', '--quiet', '--src-tls-verify=false',
        `docker://${host}/${image}:${tag}`, `dir:${join(dir, 'out')}`],
      600_000
    )
    const seconds = (performance.now() - t0) / 1000
    return { seconds, rss: Number(stderr.trim().split('\n').at(-1)) / 1024 }
  } finally {
    removeDir(dir)
  }
}

/** wrk against one URL; requests per second. Throws on errors or non-2xx answers. */
export async function wrk(
  url: string,
  headers: Record<string, string>,
  { seconds, connections, threads }: { seconds: number; connections: number; threads: number }
): Promise<number> {
  const h = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`])
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s']
  const { stdout } = await run('wrk', [...args, ...h, url], (seconds + 30) * 1000)
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1])
  if (!Number.isFinite(rps)) throw new Error(`wrk gave no rate:\n${stdout}`)
  if (/Non-2xx or 3xx responses|Socket errors/.test(stdout)) {
    throw new Error(`wrk saw failures against ${url}:\n${stdout}`)
  }
  return rps
}
