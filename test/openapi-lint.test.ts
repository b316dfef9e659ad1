/**
 * The generated Engine API document passes `redocly lint` with the recommended rules
 * (redocly.yaml), offline: no telemetry, no update check. Warnings are printed, errors fail.
 */
import { expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { openapiDocument, templatePaths } from '../scripts/openapi-document.ts'

const ROOT = resolve(import.meta.dir, '..')

interface Problem {
  ruleId: string
  severity: 'error' | 'warn'
  message: string
  location: Array<{ pointer: string }>
}

/** Lints `doc` as the routes generate it now, so a stale openapi/engine.json cannot hide a problem. */
async function lint(doc: object): Promise<{ totals: { errors: number; warnings: number }; problems: Problem[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepull-lint-'))
  try {
    const file = join(dir, 'engine.json')
    writeFileSync(file, JSON.stringify(doc, null, 2))
    const proc = Bun.spawn(
      [join(ROOT, 'node_modules/.bin/redocly'), 'lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format', 'json'],
      {
        cwd: ROOT,
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      }
    )
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
    await proc.exited
    try {
      return JSON.parse(stdout)
    } catch {
      throw new Error(`redocly printed no JSON report:\n${stdout}\n${stderr}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const describeProblem = (p: Problem) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`

test('redocly lint finds no errors in the Engine API document', async () => {
  const report = await lint(openapiDocument())
  const warnings = report.problems.filter((p) => p.severity === 'warn').map(describeProblem)
  if (warnings.length) console.warn(`redocly warnings:\n  ${warnings.join('\n  ')}`)
  expect(report.problems.filter((p) => p.severity === 'error').map(describeProblem)).toEqual([])
  expect(report.totals.errors).toBe(0)
}, 60_000)

test('Hono multi-segment parameters become plain OpenAPI templates', () => {
  expect(Object.keys(templatePaths({ '/images/{name{.+}}/json': 1, '/images/{name{.+}}': 2, '/images/search': 3 }))).toEqual([
    '/images/{name}/json',
    '/images/{name}',
    '/images/search',
  ])
  const paths = Object.keys((openapiDocument() as { paths: object }).paths)
  expect(paths.filter((p) => /\{\w+\{/.test(p))).toEqual([])
})
