/** Preloaded by bun test (bunfig.toml): process-wide teardown of shared test servers. */
import { afterAll } from 'bun:test'
import { stopTestbeds } from './testbed.ts'

afterAll(() => stopTestbeds())
process.once('exit', stopTestbeds)
