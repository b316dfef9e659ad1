/**
 * Archives for the save/load tests, rewritten from a real `GET /images/get` archive with
 * python3's tarfile (which, unlike our writer, will write any name it is given): the
 * pre-docker-25 layout, hostile entries, corrupted blobs.
 */
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileBytes, run, tempDir } from './archive.ts'

function python(script: string, input: Uint8Array, ...args: string[]): Uint8Array {
  const dir = tempDir()
  writeFileSync(join(dir, 'in.tar'), input)
  writeFileSync(join(dir, 'script.py'), script)
  try {
    run(['python3', join(dir, 'script.py'), join(dir, 'in.tar'), join(dir, 'out.tar'), ...args])
    return fileBytes(join(dir, 'out.tar'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const COMMON = `
import gzip, hashlib, io, json, sys, tarfile
src = tarfile.open(sys.argv[1])
files = {m.name: src.extractfile(m).read() for m in src.getmembers() if m.isfile()}
out = tarfile.open(sys.argv[2], 'w', format=tarfile.PAX_FORMAT)
def add(name, data, **kw):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in kw.items(): setattr(info, k, v)
    out.addfile(info, io.BytesIO(data))
def link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    out.addfile(info)
`

/**
 * The layout docker wrote before 25: `<v1 id>/{VERSION,json,layer.tar}` with uncompressed
 * layers, `<config hex>.json`, manifest.json last. The bottom layer is reached through a
 * symlink (`alias/layer.tar -> ../<id>/layer.tar`), as old saves link duplicate layers.
 */
export const legacyLayout = (saved: Uint8Array): Uint8Array =>
  python(
    `${COMMON}
manifest = json.loads(files['manifest.json'])
items = []
for item in manifest:
    config = files[item['Config']]
    cfg_hex = item['Config'].split('/')[-1]
    add(cfg_hex + '.json', config)
    layers = []
    parent = ''
    for i, path in enumerate(item['Layers']):
        data = files[path]
        if data[:2] == b'\\x1f\\x8b': data = gzip.decompress(data)
        v1 = hashlib.sha256((parent + path).encode()).hexdigest()
        add(v1 + '/VERSION', b'1.0')
        add(v1 + '/json', json.dumps({'id': v1, 'parent': parent}).encode())
        add(v1 + '/layer.tar', data)
        layers.append(v1 + '/layer.tar')
        parent = v1
    link('alias/layer.tar', '../' + layers[0])
    layers[0] = 'alias/layer.tar'
    items.append({'Config': cfg_hex + '.json', 'RepoTags': item['RepoTags'], 'Layers': layers})
add('manifest.json', json.dumps(items).encode())
out.close()
`,
    saved
  )

/** The archive with one extra entry (a hostile one) inserted before manifest.json. */
export const withEntry = (saved: Uint8Array, kind: 'file' | 'symlink' | 'hardlink', name: string, target = '') =>
  python(
    `${COMMON}
for m in src.getmembers():
    if m.name == 'index.json':
        kind, name, target = sys.argv[3:6]
        if kind == 'file': add(name, b'pwned')
        else: link(name, target, tarfile.SYMTYPE if kind == 'symlink' else tarfile.LNKTYPE)
    out.addfile(m, src.extractfile(m) if m.isfile() else None)
out.close()
`,
    saved,
    kind,
    name,
    target
  )

/** The archive with one byte of the blob `hex` flipped. */
export const corruptBlob = (saved: Uint8Array, hex: string): Uint8Array =>
  python(
    `${COMMON}
for m in src.getmembers():
    data = src.extractfile(m).read() if m.isfile() else None
    if m.name == 'blobs/sha256/' + sys.argv[3]:
        data = bytes([data[0] ^ 0xff]) + data[1:]
    out.addfile(m, io.BytesIO(data) if data is not None else None)
out.close()
`,
    saved,
    hex
  )

/** The archive with manifest.json replaced by `json`. */
export const withManifest = (saved: Uint8Array, json: string): Uint8Array =>
  python(
    `${COMMON}
for m in src.getmembers():
    if m.name == 'manifest.json':
        add('manifest.json', sys.argv[3].encode())
    else:
        out.addfile(m, src.extractfile(m) if m.isfile() else None)
out.close()
`,
    saved,
    json
  )
