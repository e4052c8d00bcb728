/**
 * A store in a child process, for the tests that kill it (SIGKILL) part way: `node store-child.js DIR
 * STEP`. It prints a line at each point a test may wait for, and waits to be killed once done.
 *   open       opens the store ("opening" first, "open" once it answers)
 *   save-loop  writes and saves the restart state over and over
 *   tail       writes, saves the restart state, writes more ("written")
 *   compacted  writes, saves the restart state, writes more and compacts past the save ("written")
 *   busy       writes, saves the restart state while a write that moves leases is not yet durable,
 *              writes more ("written")
 */
import { MvccStore } from '../../src/backend/embedded/mvcc-store.js'
import { writeMixed, writeWorkload } from './store-workload.js'

const [dir, step] = process.argv.slice(2) as [string, string]
const say = (line: string) => process.stdout.write(`${line}\n`)

say('opening')
const store = await MvccStore.open(dir)
say('open')
switch (step) {
  case 'open':
    break
  case 'save-loop':
    for (let round = 0; ; round++) {
      await writeWorkload(store, 2000, 2, round)
      await store.saveRestartState()
      say(`saved ${round}`)
    }
  case 'tail':
  case 'compacted':
    await writeWorkload(store, 5000, 10)
    if (!(await store.saveRestartState())) throw new Error('the restart state was not saved')
    await writeWorkload(store, 3000, 10, 2)
    if (step === 'compacted') await (await store.compact(store.committedRev - 5)).physical
    say('written')
    break
  case 'busy': {
    await writeWorkload(store, 5000, 10)
    const durable = writeMixed(store)
    const saved = store.saveRestartState()
    await durable
    if (!(await saved)) throw new Error('the restart state was not saved')
    await writeWorkload(store, 3000, 5, 2)
    say('written')
    break
  }
  default:
    throw new Error(`unknown step ${step}`)
}
// held open until killed
setInterval(() => undefined, 60_000)
