/** The schedule at seconds granularity, on the real clock: cron with seconds and @every, one backup at a time, a missed slot once. */
import t from 'tap'
import { parseSchedule, ScheduleLoop } from '../../src/backup/schedule.js'
import { eventually } from '../helpers/eventually.js'

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
  const began = Date.now()
  loop.start()
  t.ok(await eventually(async () => runs.length >= 3, 20_000), 'three runs')
  await loop.stop()
  const slots = Math.floor(Date.now() / 1000) - Math.floor(began / 1000)
  t.ok(runs.length <= slots, `no more runs than seconds begun (${runs.length} in ${slots})`)
  const seconds = runs.map((at) => Math.floor(at / 1000))
  t.same(seconds, [...new Set(seconds)].sort((a, b) => a - b), 'each in a second of its own, in order')
  // the timer's lateness on a loaded machine is the margin: a run is never early, and one late by a whole
  // second would be in the next one's second
  for (const at of runs) t.ok(at % 1000 < 900, `ran at the start of its second (+${at % 1000} ms)`)
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
  t.ok(await eventually(async () => starts.length >= 3, 20_000), 'three runs')
  await loop.stop()
  t.notOk(overlapped, 'no two runs at once')
  const gaps = starts.slice(1).map((s, i) => s - starts[i]!)
  // right after the long run, or a second later (at the next slot) had the missed one not run: the timer's
  // lateness is the margin between
  t.ok(gaps[0]! >= 3_200 && gaps[0]! < 4_000, `the missed slots ran once, right after the long run (${gaps[0]} ms)`)
  t.ok(gaps.slice(1).every((gap) => gap >= 900), `then the schedule resumed, one per second (${gaps.slice(1).join(', ')} ms)`)
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
  t.ok(await eventually(async () => runs === 1, 20_000), 'a backup runs')
  await loop.stop()
  t.ok(finished, 'the running backup finished before stop returned')
  await sleep(1_200)
  t.equal(runs, 1)
})
