/**
 * moby's progress reader cadence: report every 512 KiB or 1% of the total (whichever is
 * smaller), at most every 100 ms, and always the final byte.
 */
export function progressThrottle(total: number | undefined, now: () => number = Date.now) {
  const step = Math.min(512 * 1024, total ? Math.max(1, Math.floor(total / 100)) : 512 * 1024)
  let lastBytes = 0
  let lastTime = 0
  return (current: number): boolean => {
    if (total !== undefined && current >= total) {
      const first = lastBytes < total
      lastBytes = current
      return first
    }
    if (current - lastBytes < step) return false
    const t = now()
    if (t - lastTime < 100) return false
    lastBytes = current
    lastTime = t
    return true
  }
}
