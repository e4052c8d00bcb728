/**
 * A store in a child process, for the tests that kill it (SIGKILL) part way: `node store-child.js DIR
 * STEP`. It prints a line at each point a test may wait for, and waits to be killed once done.
 *   open       opens the store ("opening" first, "open" once it answers)
 *   save-loop  writes and saves the restart state over and over
 *   tail       writes, saves the restart state, writes more ("written")
 *   compacted  writes, saves the restart state, writes more and compacts past the save ("written")
 *   busy       writes, saves the restart state while a write that moves leases is not yet durable,
 *              writes more ("written")
 *   acked      8 writers put keys acked/N = N, one key a revision, each printing "acked N REV" once its
 *              put is acknowledged, until killed
 *   last-acked puts two keys one after the other and kills itself as the second is acknowledged (lmdb
 *              takes logged writes STORE_EVERY_MS after its last transaction: this one only the log holds)
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
  case 'acked': {
    let next = 0
    const writer = async () => {
      for (;;) {
        const n = next++
        const txn = store.write()
        txn.put(Buffer.from(`acked/${n}`), Buffer.from(String(n)), 0n)
        await txn.end()
        say(`acked ${n} ${txn.rev}`)
      }
    }
    for (let w = 0; w < 8; w++) void writer()
    break
  }
  case 'last-acked': {
    for (const n of [0, 1]) {
      const txn = store.write()
      txn.put(Buffer.from(`acked/${n}`), Buffer.from(String(n)), 0n)
      await txn.end()
    }
    process.kill(process.pid, 'SIGKILL')
    break
  }
  default:
    throw new Error(`unknown step ${step}`)
}
// held open until killed
setInterval(() => undefined, 60_000)
