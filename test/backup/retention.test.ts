/** Retention under each policy, over days and weeks of backups: a fake clock, since real time would take weeks. */
import t from 'tap'
import { expiredBackups, type RetainedBackup } from '../../src/backup/retention.js'

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const now = new Date(Date.UTC(2026, 11, 6, 12, 0, 0))
const ago = (ms: number, verified = true): RetainedBackup => ({ name: `b-${ms}`, time: new Date(now.getTime() - ms), verified })
const names = (bs: RetainedBackup[]) => bs.map((b) => b.name)

/** One backup every `step` for `span`, newest first in time (oldest first in the array). */
function every(step: number, span: number): RetainedBackup[] {
  const out: RetainedBackup[] = []
  for (let age = span; age >= 0; age -= step) out.push(ago(age))
  return out
}

t.test('no policy deletes nothing', async (t) => {
  t.same(expiredBackups(every(HOUR, 30 * DAY), {}, now), [])
})

t.test('--keep N keeps the newest N verified; unverified ones are never candidates', async (t) => {
  const bs = [ago(5 * HOUR), ago(4 * HOUR, false), ago(3 * HOUR), ago(2 * HOUR), ago(HOUR)]
  t.same(expiredBackups(bs, { keep: 2 }, now), names([bs[0]!, bs[2]!]))
  t.same(expiredBackups(bs, { keep: 1 }, now), names([bs[0]!, bs[2]!, bs[3]!]))
  t.same(expiredBackups(bs, { keep: 10 }, now), [])
})

t.test('--keep-for deletes only what is provably older; a time ahead of the clock is kept', async (t) => {
  const bs = [ago(8 * DAY), ago(7 * DAY + 1), ago(7 * DAY), ago(6 * DAY), ago(-HOUR)]
  t.same(expiredBackups(bs, { keepForMs: 7 * DAY }, now), names([bs[0]!, bs[1]!]))
})

t.test('the newest verified backup is never deleted, however old', async (t) => {
  const bs = [ago(30 * DAY), ago(20 * DAY), ago(10 * DAY), ago(HOUR, false)]
  t.same(expiredBackups(bs, { keepForMs: DAY }, now), names([bs[0]!, bs[1]!]))
  // exponential keeps the 20-day one as its week's
  t.same(expiredBackups(bs, { keep: 1, keepForMs: DAY, exponential: true }, now), names([bs[0]!]))
})

t.test('several policies: a backup any of them keeps is kept', async (t) => {
  const bs = [ago(3 * DAY), ago(2 * DAY), ago(DAY), ago(HOUR)]
  t.same(expiredBackups(bs, { keep: 3, keepForMs: 36 * HOUR }, now), names([bs[0]!]))
})

t.test('--keep-policy exponential: all of the last hour, then hourly for a day, daily for a week, weekly for four', async (t) => {
  // a backup every 10 minutes for 40 days
  const bs = every(10 * MIN, 40 * DAY)
  const expired = new Set(expiredBackups(bs, { exponential: true }, now))
  const kept = bs.filter((b) => !expired.has(b.name))
  const age = (b: RetainedBackup) => now.getTime() - b.time.getTime()
  t.equal(kept.filter((b) => age(b) < HOUR).length, 6, 'every backup of the last hour')
  const hourly = kept.filter((b) => age(b) >= HOUR && age(b) < DAY)
  const hoursSeen = new Set(hourly.map((b) => Math.floor(b.time.getTime() / HOUR)))
  t.equal(hourly.length, hoursSeen.size, 'one per hour for the last day')
  t.ok(hourly.length >= 23 && hourly.length <= 24, `about 23 hours (${hourly.length})`)
  // the hour an hour ago is split with the last hour's tier: its newest in the hourly tier is older
  for (const b of hourly.filter((b) => age(b) >= 2 * HOUR)) t.equal(b.time.getTime() % HOUR, 50 * MIN, 'the newest of its hour')
  const daily = kept.filter((b) => age(b) >= DAY && age(b) < 7 * DAY)
  t.equal(daily.length, new Set(daily.map((b) => Math.floor(b.time.getTime() / DAY))).size, 'one per day for a week')
  t.ok(daily.length >= 6 && daily.length <= 7, `about 6 days (${daily.length})`)
  const weekly = kept.filter((b) => age(b) >= 7 * DAY && age(b) < 28 * DAY)
  t.ok(weekly.length >= 3 && weekly.length <= 4, `one per week for four weeks (${weekly.length})`)
  t.equal(kept.filter((b) => age(b) >= 28 * DAY).length, 0, 'nothing older than four weeks')
  t.equal(kept.length + expired.size, bs.length)
})

t.test('exponential on a fresh directory deletes nothing', async (t) => {
  t.same(expiredBackups(every(10 * MIN, 50 * MIN), { exponential: true }, now), [])
})
