/**
 * Runtime names for the CPU and OS turned into Go's (GOARCH/GOOS), which `/version` reports
 * as dockerd does. Node and Bun say `x64`, Deno says `x86_64`; Docker clients expect `amd64`.
 */

const GOARCH: Record<string, string> = {
  x64: 'amd64',
  x86_64: 'amd64',
  arm64: 'arm64',
  aarch64: 'arm64',
  ia32: '386',
  arm: 'arm',
}

/** `x64`/`x86_64` → `amd64`, `arm64`/`aarch64` → `arm64`; unknown names pass through. */
export const goArch = (arch: string): string => GOARCH[arch] ?? arch

/** `win32` → `windows`; the rest (`linux`, `darwin`) already match GOOS. */
export const goOs = (os: string): string => (os === 'win32' ? 'windows' : os)
