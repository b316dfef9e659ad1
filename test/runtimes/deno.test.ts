/**
 * The shared runtime cases on Deno, started by `npm run start:deno`'s script (so with its
 * narrow permissions), and that script's `--allow-env` list kept in step with src/config.ts.
 */
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { configEnvNames } from '../../src/runtime/env-names.ts'
import { ROOT } from '../support/build.ts'
import { runtimeCases } from './cases.ts'
import { startDenoServer } from './servers.ts'

runtimeCases('deno', startDenoServer, {
  bigBodiesKeepLength: true,
})

describe('start-deno.sh', () => {
  test('allows exactly the variables config.ts reads', () => {
    const script = readFileSync(join(ROOT, 'scripts/start-deno.sh'), 'utf8')
    const listed = /^ENV_NAMES=(.*)$/m.exec(script)![1]!.split(',')
    expect(listed.sort()).toEqual(configEnvNames().sort())
    expect(listed).toContain('EDGEPULL_CONFIG')
  })
})
