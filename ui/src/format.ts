/** Numbers as people read them: sizes, rates, durations. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`
}

export const rate = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(1))

export function millis(seconds: number): string {
  const ms = seconds * 1000
  return ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(1) : ms.toFixed(2)
}
