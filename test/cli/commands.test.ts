import { Command } from 'commander'
import t from 'tap'
import { COMMAND_MODULES, registerCommands } from '../../src/cli/commands.js'
import { ETCDGW_VERSION } from '../../src/version.js'
import { etcdgw } from '../helpers/snapshot-workload.js'

const names = (program: Command) => program.commands.map((c) => c.name())

t.test('each module registers exactly the commands it is listed for', async (t) => {
  for (const [listed, load] of COMMAND_MODULES) {
    const program = new Command()
    ;(await load())(program)
    t.same(names(program), listed, listed.join(', '))
  }
})

t.test('a known command loads its module alone; help and unknown commands load every module', async (t) => {
  const only = new Command()
  await registerCommands(only, ['get', 'foo'])
  t.same(names(only), ['get', 'put', 'del', 'watch'])
  for (const argv of [[], ['--help'], ['nonsense']]) {
    const all = new Command()
    await registerCommands(all, argv)
    t.same(names(all), COMMAND_MODULES.flatMap(([listed]) => listed), `argv ${JSON.stringify(argv)}`)
  }
})

t.test('etcdgw version and etcdgw --version print our release and the etcd API version, as etcdctl version does', async (t) => {
  const want = `etcdgw version: ${ETCDGW_VERSION}\nAPI version: 3.4\n`
  for (const argv of [['version'], ['--version']]) {
    const r = await etcdgw(argv)
    t.equal(r.code, 0, `${argv[0]} exits 0`)
    t.equal(r.stdout, want, `${argv[0]} prints the versions`)
  }
})
