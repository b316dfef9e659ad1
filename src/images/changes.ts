/**
 * `changes` for import and commit: Dockerfile instructions applied to an image's runtime
 * config, as moby's dockerfile.BuildFromConfig does it. The lines are joined and parsed as
 * one Dockerfile (so `\` continues a line), and only the instructions that change metadata
 * are allowed.
 */
import type { ContainerConfig } from '../oci/manifest.ts'
import { envMap, processWord, splitWords } from './dockerfile-words.ts'
import { ImageError } from './errors.ts'

const ALLOWED = new Set([
  'cmd',
  'entrypoint',
  'env',
  'expose',
  'label',
  'onbuild',
  'stopsignal',
  'user',
  'volume',
  'workdir',
])

/** One instruction: its lower-case keyword and the text after it. */
interface Instruction {
  keyword: string
  rest: string
}

/** The `changes` query parameter as Hono hands it over: absent, once, or repeated. */
export const changeList = (q: string | string[] | undefined): string[] =>
  q === undefined ? [] : Array.isArray(q) ? q : [q]

/** A copy of `config` with every instruction applied; ImageError 400 in moby's words. */
export function applyChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const out: ContainerConfig = structuredClone(config)
  if (changes.length === 0) return out
  const instructions = parseDockerfile(changes.join('\n'))
  for (const { keyword } of instructions) {
    if (!ALLOWED.has(keyword)) throw bad(`${keyword} is not a valid change command`)
  }
  let cmdSet = false
  for (const ins of instructions) {
    try {
      if (ins.keyword === 'cmd') cmdSet = true
      dispatch(out, ins, cmdSet)
    } catch (err) {
      throw err instanceof ImageError ? err : bad((err as Error).message)
    }
  }
  return out
}

const bad = (message: string) => new ImageError(400, message)

function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = []
  let pending = ''
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (pending === '' && (line === '' || line.startsWith('#'))) continue
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1)
      continue
    }
    logical.push(pending + line)
    pending = ''
  }
  if (pending.trim()) logical.push(pending)
  return logical.map((l) => {
    const m = /^(\S+)\s*(.*)$/s.exec(l.trim())!
    return { keyword: m[1]!.toLowerCase(), rest: m[2]!.trim() }
  })
}

function dispatch(c: ContainerConfig, { keyword, rest }: Instruction, cmdSet: boolean): void {
  const env = envMap(c.Env)
  const word = (w: string) => processWord(w, env)
  const upper = keyword.toUpperCase()
  switch (keyword) {
    case 'cmd':
      c.Cmd = commandLine(rest)
      return
    case 'entrypoint':
      c.Entrypoint = commandLine(rest)
      // An ENTRYPOINT drops the inherited CMD unless these changes set one too.
      if (!cmdSet) c.Cmd = null
      return
    case 'env':
      for (const [k, v] of nameValues(rest, upper, word)) {
        if (!k) throw bad('ENV names can not be blank')
        c.Env = [...(c.Env ?? []).filter((e) => e.split('=', 1)[0] !== k), `${k}=${v}`]
      }
      return
    case 'label':
      for (const [k, v] of nameValues(rest, upper, word)) {
        if (!k) throw bad('LABEL names can not be blank')
        c.Labels = { ...(c.Labels ?? {}), [k]: v }
      }
      return
    case 'expose': {
      const ports = splitWords(rest).map(word)
      if (ports.length === 0) throw bad('EXPOSE requires at least one argument')
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) }
      for (const p of ports.flatMap(portSpecs)) c.ExposedPorts[p] = {}
      return
    }
    case 'user':
    case 'stopsignal': {
      const args = splitWords(rest).map(word)
      if (args.length !== 1) throw bad(`${upper} requires exactly one argument`)
      if (keyword === 'user') c.User = args[0]
      else c.StopSignal = checkSignal(args[0]!)
      return
    }
    case 'workdir': {
      if (!rest) throw bad('WORKDIR requires exactly one argument')
      const dir = word(rest)
      c.WorkingDir = dir.startsWith('/') ? dir : cleanPath(`/${c.WorkingDir ?? ''}/${dir}`)
      return
    }
    case 'volume': {
      const json = jsonStrings(rest)
      const vols = json ?? splitWords(rest).map(word)
      if (vols.length === 0) throw bad('VOLUME requires at least one argument')
      c.Volumes = { ...(c.Volumes ?? {}) }
      for (const v of vols) {
        if (!v.trim()) throw bad('VOLUME specified can not be an empty string')
        c.Volumes[v] = {}
      }
      return
    }
    case 'onbuild': {
      const trigger = rest.split(/\s/, 1)[0]!.toUpperCase()
      if (!trigger) throw bad('ONBUILD requires at least one argument')
      if (trigger === 'ONBUILD') throw bad("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
      if (trigger === 'FROM' || trigger === 'MAINTAINER') {
        throw bad(`${trigger} isn't allowed as an ONBUILD trigger`)
      }
      c.OnBuild = [...(c.OnBuild ?? []), rest]
      return
    }
  }
}

/** Exec form (a JSON array of strings) as is; anything else runs through `/bin/sh -c`. */
function commandLine(rest: string): string[] {
  return jsonStrings(rest) ?? ['/bin/sh', '-c', rest]
}

function jsonStrings(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined
  try {
    const v: unknown = JSON.parse(rest)
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v
  } catch {}
  return undefined
}

/** `k=v k2="v 2"`, or the legacy `k the rest is the value`, each part expanded. */
function nameValues(rest: string, upper: string, word: (w: string) => string): [string, string][] {
  const words = splitWords(rest)
  if (words.length === 0) throw bad(`${upper} requires at least one argument`)
  if (!words[0]!.includes('=')) {
    const m = /^(\S+)\s+(.*)$/s.exec(rest)
    if (!m) throw bad(`${upper} must have two arguments`)
    return [[word(m[1]!), word(m[2]!)]]
  }
  return words.map((w) => {
    const eq = w.indexOf('=')
    if (eq < 0) {
      throw bad(`Syntax error - can't find = in "${w}". Must be of the form: name=value`)
    }
    return [word(w.slice(0, eq)), word(w.slice(eq + 1))]
  })
}

/** `80`, `53/udp`, `8000-8002/tcp` → `80/tcp`, … (nat.ParsePortSpecs, container side only). */
function portSpecs(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(\w+))?$/.exec(spec)
  if (!m) throw bad(`invalid containerPort: ${spec}`)
  const proto = (m[3] ?? 'tcp').toLowerCase()
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw bad(`invalid proto: ${proto}`)
  const start = Number(m[1])
  const end = m[2] === undefined ? start : Number(m[2])
  if (start < 1 || end > 65535 || end < start) throw bad(`invalid port range: ${spec}`)
  return Array.from({ length: end - start + 1 }, (_, i) => `${start + i}/${proto}`)
}

const SIGNALS = new Set(
  ('ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV ' +
    'STKFLT STOP SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ')
    .split(' ')
)

/** A signal name (with or without `SIG`), `RTMIN+n`, or a number, as signal.ParseSignal takes. */
function checkSignal(s: string): string {
  const name = s.toUpperCase().replace(/^SIG/, '')
  const n = Number(s)
  const ok = Number.isInteger(n)
    ? n > 0 && n <= 64
    : SIGNALS.has(name) || /^RT(MIN|MAX)([+-]\d+)?$/.test(name)
  if (!ok) throw bad(`Invalid signal: ${s}`)
  return s
}

/** path.Clean for absolute paths. */
function cleanPath(p: string): string {
  const parts: string[] = []
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue
    if (seg === '..') parts.pop()
    else parts.push(seg)
  }
  return `/${parts.join('/')}`
}
