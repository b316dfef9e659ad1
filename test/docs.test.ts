/**
 * `/docs` rendered by a real browser: headless Chromium loads the page from the real Node
 * entry with every host but 127.0.0.1 unresolvable, so Swagger UI can only have come from
 * the app itself. Without assets (another runtime's build), `/docs` says how to get them.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseFileConfig } from '../src/config.ts'
import { assemble } from '../src/runtime/assemble.ts'
import { createMemoryDriver } from '../src/storage/memory.ts'
import { startNode, type NodeProcess } from './support/edgepull.ts'

/** The DOM after scripts ran, as headless Chromium sees `url` with no internet access. */
async function renderedDom(url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'edgepull-chromium-'))
  try {
    const proc = Bun.spawn(
      [
        'chromium',
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        // Offline but for the app: a CDN reference would fail to load and the UI not render.
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
        // Lets Swagger UI fetch /openapi.json and render before the DOM is dumped.
        '--virtual-time-budget=15000',
        '--dump-dom',
        url,
      ],
      { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }
    )
    const [dom, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ])
    if (code !== 0) throw new Error(`chromium exited ${code}:\n${stderr}`)
    return dom
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
}

describe('/docs from the Node entry', () => {
  let server: NodeProcess
  beforeAll(async () => {
    server = await startNode({})
  }, 120_000)
  afterAll(() => server?.stop())

  test('Chromium renders Swagger UI with the API’s operations', async () => {
    const dom = await renderedDom(`${server.url}/docs`)
    expect(dom).toContain('class="swagger-ui')
    expect(dom).toContain('edgepull Engine API')
    for (const path of ['/_ping', '/version', '/images/create', '/images/search']) {
      expect(dom).toContain(`data-path="${path}"`)
    }
    expect(dom).not.toContain('Failed to load API definition')
  }, 60_000)

  test('the assets are served by the app', async () => {
    const js = await fetch(`${server.url}/docs/swagger-ui-bundle.js`)
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(await js.text()).toContain('SwaggerUIBundle')
    const css = await fetch(`${server.url}/docs/swagger-ui.css`)
    expect(css.status).toBe(200)
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expect((await css.text()).length).toBeGreaterThan(10_000)
  })
})

describe('/docs without assets', () => {
  const app = assemble({
    config: parseFileConfig('{}'),
    driver: createMemoryDriver(),
    fetch: () => Promise.reject(new Error('no upstream in this test')),
    runtime: { name: 'test', version: '0', os: 'linux', arch: 'amd64' },
  })

  test('explains where the page comes from instead of failing', async () => {
    const res = await app.request('/docs')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('text/html')
    const html = await res.text()
    expect(html).toContain('/openapi.json')
    expect(html).toContain('swagger-ui-dist')
    expect(html).toContain('docsAssets')
    expect((await app.request('/docs/swagger-ui-bundle.js')).status).toBe(404)
  })

  test('given assets, the page loads them from the app, never a CDN', async () => {
    const withAssets = assemble({
      config: parseFileConfig('{}'),
      driver: createMemoryDriver(),
      fetch: () => Promise.reject(new Error('no upstream in this test')),
      runtime: { name: 'test', version: '0', os: 'linux', arch: 'amd64' },
      docsAssets: { script: '/* js */', css: '/* css */' },
    })
    const html = await (await withAssets.request('/docs')).text()
    expect(html).toContain('<script src="/docs/swagger-ui-bundle.js">')
    expect(html).toContain('<link rel="stylesheet" href="/docs/swagger-ui.css">')
    expect(html).not.toMatch(/https?:\/\//)
    expect(await (await withAssets.request('/docs/swagger-ui.css')).text()).toBe('/* css */')
  })
})
