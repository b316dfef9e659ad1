/** Free loopback ports for test servers. */
import { createServer } from 'node:net'

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

/** A free port `p` such that `p+1 … p+count-1` are free too (token mode needs two). */
export async function freePort(count = 1): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = 20000 + Math.floor(Math.random() * 30000)
    let ok = true
    for (let k = 0; k < count && ok; k++) ok = await isFree(p + k)
    if (ok) return p
  }
  throw new Error('no free port found')
}
