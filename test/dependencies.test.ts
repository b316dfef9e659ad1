/**
 * The pipeline's dependency direction, checked rather than hoped for (go-containerregistry's
 * depcheck): runtime → http → {push, mirror, images} → pull → registry → oci, with storage
 * and archive beside them; runtime APIs only in runtime entries and the fs driver.
 */
import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const SRC = resolve(import.meta.dir, '../src')

/** Which top-level parts of src/ each part may import (itself always). */
const ALLOWED: Record<string, string[]> = {
  oci: [],
  storage: ['oci'],
  registry: ['oci'],
  archive: ['oci'],
  pull: ['registry', 'storage', 'oci', 'config.ts'],
  images: ['archive', 'registry', 'storage', 'oci', 'config.ts'],
  push: ['images', 'pull', 'registry', 'storage', 'oci', 'config.ts'],
  mirror: ['images', 'pull', 'registry', 'storage', 'oci', 'config.ts'],
  http: ['push', 'mirror', 'images', 'pull', 'registry', 'storage', 'archive', 'oci', 'config.ts'],
  'config.ts': [],
}

/** Modules that tie code to one runtime. */
const RUNTIME_MODULES = /^(node:(fs|fs\/promises|path|os|net|http|child_process)|undici|@hono\/node-server)$/

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return sources(p)
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : []
  })
}

const partOf = (file: string) => relative(SRC, file).split('/')[0]!

const files = sources(SRC).map((file) => {
  const text = readFileSync(file, 'utf8')
  const specs = [...text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((m) => m[1]!)
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
  return { file, part: partOf(file), specs, code }
})

describe('dependency direction', () => {
  test('each part of src/ imports only the parts below it', () => {
    // The scan itself must see the tree, or every check below passes vacuously.
    expect(files.length).toBeGreaterThan(100)
    expect(files.flatMap((f) => f.specs).filter((s) => s.startsWith('.')).length).toBeGreaterThan(300)
    const wrong: string[] = []
    for (const f of files) {
      if (f.part === 'runtime') continue
      for (const spec of f.specs.filter((s) => s.startsWith('.'))) {
        const target = partOf(resolve(dirname(f.file), spec))
        if (target !== f.part && !ALLOWED[f.part]?.includes(target)) {
          wrong.push(`${relative(SRC, f.file)} imports ${spec}`)
        }
      }
    }
    expect(wrong).toEqual([])
  })

  test('nothing imports a runtime entry', () => {
    const wrong = files
      .filter((f) => f.part !== 'runtime')
      .flatMap((f) => f.specs.filter((s) => s.includes('runtime/')).map((s) => `${f.file}: ${s}`))
    expect(wrong).toEqual([])
  })

  test('runtime-specific modules appear only in runtime entries and the fs driver', () => {
    const wrong = files
      .filter((f) => f.part !== 'runtime' && !/storage\/fs(-file|-temps)?\.ts$/.test(f.file))
      .flatMap((f) => f.specs.filter((s) => RUNTIME_MODULES.test(s)).map((s) => `${relative(SRC, f.file)}: ${s}`))
    expect(wrong).toEqual([])
  })

  test('process, Bun and Deno globals appear only in runtime entries', () => {
    const wrong = files
      .filter((f) => f.part !== 'runtime' && /\b(process|Bun|Deno)\.[a-zA-Z]/.test(f.code))
      .map((f) => relative(SRC, f.file))
    expect(wrong).toEqual([])
  })
})
