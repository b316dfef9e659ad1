/**
 * `/docs`: Swagger UI over `/openapi.json`, with its script and stylesheet served by the app
 * itself so the page works without internet access. Shared code reads no files: the runtime
 * entry hands the asset contents in (the Node entry from node_modules/swagger-ui-dist).
 */
import type { Hono } from 'hono'

/** swagger-ui-dist's `swagger-ui-bundle.js` and `swagger-ui.css`, as text. */
export interface DocsAssets {
  script: string
  css: string
}

const BUNDLE = '/docs/swagger-ui-bundle.js'
const CSS = '/docs/swagger-ui.css'

const page = (body: string, head = '') => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgepull Engine API</title>
${head}
</head>
<body>
${body}
</body>
</html>
`

// validatorUrl: null, or Swagger UI asks validator.swagger.io about the document.
const SWAGGER_PAGE = page(
  `<div id="swagger-ui"></div>
<script src="${BUNDLE}"></script>
<script>
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
})
</script>`,
  `<link rel="stylesheet" href="${CSS}">`
)

const MISSING_PAGE = page(`<h1>edgepull Engine API</h1>
<p>This build of edgepull does not carry the Swagger UI assets, so the interactive page is
not available here. The OpenAPI document is served at <a href="/openapi.json">/openapi.json</a>
and can be opened in any OpenAPI viewer.</p>
<p>To get this page, run the Node entry (<code>npm start</code>), which serves
<code>swagger-ui-bundle.js</code> and <code>swagger-ui.css</code> from the
<code>swagger-ui-dist</code> package in node_modules, or pass their contents as
<code>docsAssets</code> when assembling the app for another runtime.</p>`)

// The assets change only with the swagger-ui-dist version, not per deployment of the page.
const ASSET_CACHE = 'public, max-age=86400'

/** Registers `/docs` and, when `assets` are given, the files the page loads. */
export function docsRoutes(app: Hono<any>, assets: DocsAssets | undefined): void {
  if (!assets) {
    app.get('/docs', (c) => c.html(MISSING_PAGE))
    return
  }
  app.get('/docs', (c) => c.html(SWAGGER_PAGE))
  app.get(BUNDLE, (c) =>
    c.body(assets.script, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': ASSET_CACHE,
    })
  )
  app.get(CSS, (c) =>
    c.body(assets.css, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': ASSET_CACHE })
  )
}
