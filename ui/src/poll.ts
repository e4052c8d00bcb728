/** Runs `task` now and then every `ms` while `active`, never two at once. */
import { useEffect } from 'preact/hooks'

export function usePoll(active: boolean, ms: number, task: () => Promise<void>): void {
  useEffect(() => {
    if (!active) return
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const run = async () => {
      await task().catch(() => undefined)
      if (!stopped) timer = setTimeout(run, ms)
    }
    void run()
    return () => {
      stopped = true
      clearTimeout(timer)
    }
  }, [active])
}
