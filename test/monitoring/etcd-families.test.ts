/**
 * etcdgw's /metrics against a real etcd 3.4's, family by family: each family etcd exposes is on etcdgw
 * with etcd's type and label names (and a histogram with etcd's buckets), or the README's monitoring section lists it as left out (for both
 * modes or for remote mode) and it is absent; and every family the etcd mixin's alerts and dashboard
 * read (etcd-mixin.ts) is there with the type and labels they expect, unless left out.
 */
import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { etcdMissing, OUR_TARGETS, startRealEtcd } from '../helpers/servers.js'
import { b64, openWs, post } from '../helpers/stream-clients.js'
import { type Family, labelNames, scrape } from '../helpers/exposition.js'
import { mixinFamilies } from './etcd-mixin.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)

type Mode = 'embedded' | 'remote'

/** The README's table of left-out families: name (or `prefix_*`) → where it is left out, `both` or `remote`. */
function leftOut(): Map<string, 'both' | 'remote'> {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf('### Monitoring'))
  const table = section.slice(section.indexOf('| family | left out | why |'), section.indexOf('\n\n', section.indexOf('| family |')))
  const out = new Map<string, 'both' | 'remote'>()
  for (const row of table.split('\n').slice(2)) {
    const [, names, where] = row.split('|').map((c) => c.trim())
    if (where !== 'both' && where !== 'remote') throw new Error(`README row without both/remote: ${row}`)
    for (const m of names!.matchAll(/`([a-z_]+\*?)`/g)) out.set(m[1]!, where)
  }
  return out
}

function isLeftOut(list: Map<string, 'both' | 'remote'>, name: string, mode: Mode): boolean {
  for (const [pattern, where] of list) {
    const matches = pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern
    if (matches && (where === 'both' || mode === 'remote')) return true
  }
  return false
}

/** What a client does before a scrape, so that labelled families have samples on both servers. */
async function exercise(url: string): Promise<void> {
  await post(url, '/v3/kv/put', JSON.stringify({ key: b64('m/k'), value: b64('v') }))
  await post(url, '/v3/kv/range', JSON.stringify({ key: b64('m/k') }))
  const watch = await openWs(url, '/v3/watch')
  watch.send(JSON.stringify({ create_request: { key: b64('m/k') } }))
  await watch.waitFor(1)
  watch.close()
}

/** A histogram's bucket bounds. */
const buckets = (f: Family) => [...new Set(f.samples.flatMap((s) => (s.labels.le === undefined ? [] : [Number(s.labels.le)])))].sort((a, b) => a - b)

const sameShape = (t: Test, name: string, ours: Family | undefined, type: string, labels: string[]) => {
  if (!t.ok(ours, `${name} is there`)) return
  t.equal(ours!.type, type, `${name} is a ${type}`)
  t.strictSame(labelNames(ours!), [...labels].sort(), `${name} has labels ${labels.join(', ') || 'none'}`)
}

t.test('etcd 3.4 families on etcdgw, in both modes', async (t) => {
  const etcd = await startRealEtcd(t)
  await exercise(etcd.url)
  const reference = await scrape(etcd.url)
  t.ok(reference.size > 80, `etcd exposes ${reference.size} families`)
  const list = leftOut()
  for (const [[target, start], mode] of [[OUR_TARGETS[0], 'embedded'], [OUR_TARGETS[1], 'remote']] as const) {
    const ours = await start(t)
    await exercise(ours.url)
    const families = await scrape(ours.url)
    for (const [name, family] of reference) {
      if (isLeftOut(list, name, mode)) {
        t.notOk(families.has(name), `${target}: ${name} is listed as left out, and absent`)
        continue
      }
      const mine = families.get(name)
      sameShape(t, `${target}: ${name}`, mine, family.type, labelNames(family))
      if (family.type === 'histogram' && mine) t.strictSame(buckets(mine), buckets(family), `${target}: ${name} has etcd's buckets`)
    }
    for (const f of mixinFamilies) {
      if (isLeftOut(list, f.name, mode)) continue
      sameShape(t, `${target}: ${f.name} (read by ${f.readBy.join('; ')})`, families.get(f.name), f.type, f.labels)
    }
    for (const name of families.keys()) {
      if (name.startsWith('etcd_') || name.startsWith('grpc_')) {
        t.ok(reference.has(name) || mixinFamilies.some((f) => f.name === name), `${target}: ${name} is etcd's`)
      }
    }
  }
})

t.test('the README lists only families etcd 3.4 has, and none that etcdgw serves', async (t) => {
  const etcd = await startRealEtcd(t)
  await exercise(etcd.url)
  const reference = await scrape(etcd.url)
  const [, start] = OUR_TARGETS[0]
  const ours = await scrape((await start(t)).url)
  for (const [name, where] of leftOut()) {
    // peers' families appear only on members with peers, go_* as a prefix
    if (!name.includes('peer') && !name.endsWith('*') && !/_(active_peers|disconnected_peers_total)$/.test(name)) {
      t.ok(reference.has(name), `${name} is etcd's`)
    }
    if (where === 'both') t.notOk(ours.has(name), `${name} is not served`)
  }
})
