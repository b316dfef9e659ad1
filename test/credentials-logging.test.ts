/**
 * Credentials never logged: the real Node entry (as `npm start` runs it) is driven through
 * every way a credential reaches it — the docker CLI with `auths` (X-Registry-Auth), /v2
 * requests with Basic and Bearer, OAuth2 password grants, server-wide registry passwords,
 * the write and admin tokens — both when they work and when they fail (wrong passwords, wrong
 * tokens, an upstream that is down), and its whole stdout and stderr are searched for them.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { docker, dockerConfig } from './support/docker-cli.ts'
import { startNode, type NodeProcess } from './support/edgepull.ts'
import { freePort } from './support/ports.ts'
import { PASSWORD, testbed, USER, type Testbed } from './support/testbed.ts'

const WRITE_TOKEN = 'credentials-write-token-4d1f9c'
const ADMIN_TOKEN = 'credentials-admin-token-8e2a7b'
const WRONG_PASSWORD = 'wrong-password-5c3e1d'
const WRONG_TOKEN = 'wrong-bearer-token-7f6a2e'
const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json'
const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`

let tt: Testbed
let tb: Testbed
let server: NodeProcess
let downHost: string
/** Every credential and token that crossed the server, to look for in its output. */
const secrets = new Set<string>([
  PASSWORD,
  WRITE_TOKEN,
  ADMIN_TOKEN,
  WRONG_PASSWORD,
  WRONG_TOKEN,
  btoa(`${USER}:${PASSWORD}`),
  btoa(`${USER}:${WRONG_PASSWORD}`),
])

beforeAll(async () => {
  tt = await testbed('token')
  tb = await testbed('basic')
  downHost = `127.0.0.1:${await freePort()}` // nothing listens there
  server = await startNode(
    {
      [tt.host]: {},
      // Server-wide credentials, used for callers who send none.
      [tb.host]: { username: USER, password: PASSWORD },
      [downHost]: { username: USER, password: PASSWORD },
    },
    { config: { writeToken: WRITE_TOKEN, adminToken: ADMIN_TOKEN } }
  )
}, 120_000)
afterAll(() => server?.stop())

const writer = (auths: Record<string, string>) =>
  dockerConfig(auths, { Authorization: `Bearer ${WRITE_TOKEN}` })

/** A /v2 token from edgepull's own endpoint, for `authorization`; remembered as a secret. */
async function mirrorToken(authorization: string | undefined, scope: string): Promise<string> {
  const res = await fetch(`${server.url}/v2/token?service=edgepull&scope=${scope}`, {
    headers: authorization ? { authorization } : {},
  })
  expect(res.status).toBe(200)
  const { token } = (await res.json()) as { token: string }
  secrets.add(token)
  return token
}

test('docker pulls with X-Registry-Auth, right and wrong, and through server-wide credentials', async () => {
  const ref = `${tt.host}/private/busybox`
  const ok = await docker(server.host, ['pull', ref], writer({ [tt.host]: `${USER}:${PASSWORD}` }))
  expect([ok.code, ok.stderr]).toEqual([0, ''])
  // A wrong password as the CLI sends it, over HTTP: on the 401 the CLI would prompt for a login.
  const xRegistryAuth = btoa(JSON.stringify({ username: USER, password: WRONG_PASSWORD, serveraddress: tt.host }))
  secrets.add(xRegistryAuth)
  const wrong = await fetch(`${server.url}/images/create?fromImage=${ref}&tag=latest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${WRITE_TOKEN}`, 'x-registry-auth': xRegistryAuth },
  })
  expect(wrong.status).toBe(401)
  expect(((await wrong.json()) as { message: string }).message).toContain('incorrect username or password')
  const serverWide = await docker(server.host, ['pull', `${tb.host}/library/busybox`], writer({}))
  expect([serverWide.code, serverWide.stderr]).toEqual([0, ''])
  const down = await docker(server.host, ['pull', `${downHost}/library/busybox`], writer({ [downHost]: `${USER}:${PASSWORD}` }))
  expect(down.code).toBe(1)
  // A wrong write token, too.
  const refused = await docker(server.host, ['tag', 'busybox', 'x'], dockerConfig({}, { Authorization: `Bearer ${WRONG_TOKEN}` }))
  expect(refused.code).toBe(1)
}, 120_000)

test('/v2 with Basic and Bearer, right and wrong; password grants; upstream down', async () => {
  const path = `/v2/${tt.host}/private/busybox/manifests/latest`
  const get = (authorization?: string, p = path) =>
    fetch(`${server.url}${p}`, { headers: { accept: ACCEPT, ...(authorization ? { authorization } : {}) } })
  expect((await get(basic(USER, PASSWORD))).status).toBe(200)
  expect((await get(basic(USER, WRONG_PASSWORD))).status).toBe(401)
  const scope = `repository:${tt.host}/private/busybox:pull`
  expect((await get(`Bearer ${await mirrorToken(basic(USER, PASSWORD), scope)}`)).status).toBe(200)
  expect((await get(`Bearer ${await mirrorToken(basic(USER, WRONG_PASSWORD), scope)}`)).status).toBe(401)
  expect((await get(`Bearer ${WRONG_TOKEN}`)).status).toBe(401)

  for (const password of [PASSWORD, WRONG_PASSWORD]) {
    const body = new URLSearchParams({ grant_type: 'password', username: USER, password, service: 'edgepull', scope })
    const res = await fetch(`${server.url}/v2/token`, { method: 'POST', body })
    expect(res.status).toBe(200)
    const { access_token, refresh_token } = (await res.json()) as { access_token: string; refresh_token?: string }
    secrets.add(access_token)
    if (refresh_token) secrets.add(refresh_token)
    expect((await get(`Bearer ${access_token}`)).status).toBe(password === PASSWORD ? 200 : 401)
  }

  // An upstream that is down, with credentials on the way: the errors are logged, not them.
  const down = await get(basic(USER, PASSWORD), `/v2/${downHost}/library/busybox/manifests/latest`)
  expect(down.status).toBeGreaterThanOrEqual(500)
}, 120_000)

test('admin and write tokens, right and wrong', async () => {
  for (const token of [ADMIN_TOKEN, WRITE_TOKEN, WRONG_TOKEN]) {
    const res = await fetch(`${server.url}/admin/tags/refresh?ref=${tt.host}/library/busybox`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    })
    expect(res.status).toBe(token === WRONG_TOKEN ? 401 : 200)
  }
}, 60_000)

test('the process printed none of them', async () => {
  const output = server.output()
  expect(output).toContain('edgepull listening on')
  const leaked = [...secrets].filter((s) => output.includes(s))
  expect(leaked).toEqual([])
  // Nor any upstream registry token (the testbed issues JWTs) or Authorization header.
  expect(output).not.toMatch(/eyJ[\w-]{10,}/)
  expect(output.toLowerCase()).not.toContain('authorization:')
})
