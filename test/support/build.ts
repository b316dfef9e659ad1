/**
 * Bundles the Node entry the way `npm start` does (esbuild, packages external), once per
 * test process, into a private directory so concurrent test runs do not race on dist/.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dir, '../..')
let dir: string | undefined
const built = new Map<string, string>()

/** The server, as `npm start` bundles it. */
export const nodeEntry = (): string => bundledEntry('node')

/** A Node entry of src/runtime/ (`node`: the server; `verify`: `npm run verify`), bundled. */
export function bundledEntry(name: 'node' | 'verify'): string {
  const done = built.get(name)
  if (done) return done
  if (!dir) {
    // Inside the checkout, so the bundle's bare imports resolve against ./node_modules.
    mkdirSync(join(ROOT, 'dist'), { recursive: true })
    removeOrphans(join(ROOT, 'dist'))
    const made = mkdtempSync(join(ROOT, 'dist', `test-${process.pid}-`))
    process.once('exit', () => rmSync(made, { recursive: true, force: true }))
    dir = made
  }
  const out = join(dir, `${name}.mjs`)
  execFileSync(
    join(ROOT, 'node_modules/.bin/esbuild'),
    [`src/runtime/${name}.ts`, '--bundle', '--platform=node', '--format=esm', '--target=node20',
      '--packages=external', '--log-level=warning', `--outfile=${out}`],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] }
  )
  built.set(name, out)
  return out
}

/** Bundles of test processes that were killed before their exit hook ran. */
function removeOrphans(dist: string): void {
  if (!existsSync('/proc/self')) return // no way to tell a live pid here
  for (const name of readdirSync(dist)) {
    const pid = /^test-(\d+)-/.exec(name)?.[1]
    if (pid && !existsSync(`/proc/${pid}`)) rmSync(join(dist, name), { recursive: true, force: true })
  }
}

const SCRIPTS: Record<string, string> = JSON.parse(
  readFileSync(join(ROOT, 'package.json'), 'utf8')
).scripts

/** The command an npm script ends with (`npm run build && node … x` → `node … x`), as words. */
export const scriptCommand = (name: string): string[] =>
  SCRIPTS[name]?.split('&&').at(-1)?.trim().split(/\s+/) ?? []

/** The node flags `npm start` runs the bundle with, so tests and benchmarks run it alike. */
export function nodeFlags(): string[] {
  const words = scriptCommand('start')
  const at = words.indexOf('dist/node.mjs')
  return words[0] === 'node' && at > 0 ? words.slice(1, at) : []
}
