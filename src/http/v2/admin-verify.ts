/**
 * `POST /admin/verify[?repair=true]`: the store verifier (src/storage/verify.ts) over the
 * server's own store, behind the admin routes' token check (registered after adminRoutes'
 * middleware). Answers the JSON VerifyReport once the whole store has been read: `clean`
 * says whether problems remain. It hashes every blob, so it takes as long as reading the
 * store does.
 */
import type { Hono } from 'hono'
import type { StoreVerifier } from '../../storage/verify.ts'

const json = (status: number, body: object): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

const FLAGS: Record<string, boolean> = { '': true, '1': true, true: true, '0': false, false: false }

/** Registers POST /admin/verify on `app` when the server has a verifier. */
export function adminVerifyRoute(app: Hono, verify: StoreVerifier | undefined): void {
  if (!verify) return
  app.post('/admin/verify', async (c) => {
    const flag = c.req.query('repair')
    const repair = flag === undefined ? false : FLAGS[flag]
    if (repair === undefined) return json(400, { message: `invalid repair=${flag}: true or false` })
    return json(200, await verify({ repair }))
  })
}
