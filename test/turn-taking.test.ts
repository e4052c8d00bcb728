/**
 * Callers of one TurnTaking work one at a time, in the order they asked, and each next one starts on a
 * later turn of the event loop: whatever was queued for that loop (I/O, timers) runs between two works.
 */
import t from 'tap'
import { TurnTaking } from '../src/turn-taking.js'

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

t.test('one holder at a time, first come first served, and I/O between two holders', async (t) => {
  const turns = new TurnTaking()
  const log: string[] = []
  let running = 0
  const work = (name: string, steps: number) =>
    turns.take(async () => {
      running++
      t.equal(running, 1, `${name} works alone`)
      for (let i = 0; i < steps; i++) {
        log.push(`${name}${i}`)
        await nextTurn()
      }
      running--
      // queued by the holder as it finishes: runs before the next holder starts
      setImmediate(() => log.push(`between after ${name}`))
      return name
    })
  const results = await Promise.all([work('a', 3), work('b', 2), work('c', 1)])
  t.strictSame(results, ['a', 'b', 'c'])
  await nextTurn()
  t.strictSame(log, ['a0', 'a1', 'a2', 'between after a', 'b0', 'b1', 'between after b', 'c0', 'between after c'])
})

t.test('a failing work passes the turn on', async (t) => {
  const turns = new TurnTaking()
  const failed = turns.take(async () => {
    throw new Error('boom')
  })
  const next = turns.take(async () => 'next')
  await t.rejects(failed, /boom/)
  t.equal(await next, 'next')
  t.equal(await turns.take(async () => 'later'), 'later', 'and the turn is free again')
})
