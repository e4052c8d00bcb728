/** The schedule at seconds granularity, on the real clock: cron with seconds and @every, one backup at a time, a missed slot once. */
import t from 'tap'
import { parseSchedule, ScheduleLoop } from '../../src/backup/schedule.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// each case mostly sleeps on its own loop's clock: they run side by side
t.jobs = 4

t.test('cron expressions (5 or 6 fields, UTC) and @every intervals', async (t) => {
  const from = new Date(Date.UTC(2026, 11, 6, 1, 2, 3))
  t.same(parseSchedule('0 */6 * * *').next(from), new Date(Date.UTC(2026, 11, 6, 6, 0, 0)))
  t.equal(parseSchedule('0 */6 * * *').intervalSeconds(from), 6 * 3600)
  t.same(parseSchedule('*/5 * * * * *').next(from), new Date(Date.UTC(2026, 11, 6, 1, 2, 5)))
  t.same(parseSchedule('@every 90s').next(from), new Date(from.getTime() + 90_000))
  t.equal(parseSchedule('@every 1h30m').intervalSeconds(from), 5400)
  t.throws(() => parseSchedule('* * * * * * *'), /--schedule "\* \* \* \* \* \* \*": .*5 or 6 parts/)
  t.throws(() => parseSchedule('@every 10ms'), /1s or more/)
  t.throws(() => parseSchedule('nonsense'), /--schedule "nonsense"/)
})

t.test('every second: one run per slot, on its second', async (t) => {
  const runs: number[] = []
  const loop = new ScheduleLoop(parseSchedule('* * * * * *'), async () => void runs.push(Date.now()))
  loop.start()
  await sleep(3_500)
  await loop.stop()
  t.ok(runs.length >= 3 && runs.length <= 4, `3 or 4 runs in 3.5 s (${runs.length})`)
  for (const at of runs) t.ok(at % 1000 < 400, `ran at the start of its second (+${at % 1000} ms)`)
})

t.test('a run longer than its slots: never two at once, and the missed slots run once, not as a burst', async (t) => {
  let running = 0
  let overlapped = false
  const starts: number[] = []
  const loop = new ScheduleLoop(parseSchedule('@every 1s'), async () => {
    overlapped ||= running > 0
    running++
    starts.push(Date.now())
    // the first run spans three slots
    await sleep(starts.length === 1 ? 3_200 : 100)
    running--
  })
  loop.start()
  await sleep(5_600)
  await loop.stop()
  t.notOk(overlapped, 'no two runs at once')
  const gaps = starts.slice(1).map((s, i) => s - starts[i]!)
  t.ok(gaps[0]! >= 3_200 && gaps[0]! < 3_700, `the missed slots ran once, right after the long run (${gaps[0]} ms)`)
  t.ok(gaps[1]! >= 900, `then the schedule resumed, one per second (${gaps[1]} ms)`)
  t.ok(starts.length >= 3 && starts.length <= 4, `${starts.length} runs in 5.6 s`)
})

t.test('stop waits for the running backup and starts no other', async (t) => {
  let finished = false
  let runs = 0
  const loop = new ScheduleLoop(parseSchedule('@every 1s'), async () => {
    runs++
    await sleep(500)
    finished = true
  })
  loop.start()
  await sleep(1_200)
  await loop.stop()
  t.ok(finished, 'the running backup finished before stop returned')
  await sleep(1_200)
  t.equal(runs, 1)
})
