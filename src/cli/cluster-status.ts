/** `etcdgw endpoint health|status` and `etcdgw member list`: etcdctl's commands and layouts, over a gateway's HTTP. */
import type { Command } from 'commander'
import { addTlsOptions, clientTls, type ClientTls, endpointList, endpointsOption, fail, rpc, type TlsFlags, writeOutOption } from './gateway-client.js'
import { goDuration, hexId, humanBytes, table } from './output.js'

type Format = 'simple' | 'table' | 'json'
const formats = ['simple', 'table', 'json']

interface StatusBody {
  header: { member_id?: string }
  version?: string
  dbSize?: string
  leader?: string
  raftIndex?: string
  raftTerm?: string
  raftAppliedIndex?: string
  errors?: string[]
  isLearner?: boolean
}

interface MemberBody {
  ID?: string
  name?: string
  peerURLs?: string[]
  clientURLs?: string[]
  isLearner?: boolean
}

/** The gateway's int64 strings become JSON numbers, as etcdctl's encoding/json prints them. */
function etcdctlJson(gatewayJson: string): string {
  return gatewayJson.replace(
    /"(cluster_id|member_id|revision|raft_term|dbSize|leader|raftIndex|raftTerm|raftAppliedIndex|dbSizeInUse|ID)":"(-?\d+)"/g,
    '"$1":$2',
  )
}

async function rawRpc(endpoint: string, path: string, tls: ClientTls): Promise<string> {
  return JSON.stringify(await rpc<unknown>(endpoint, path, {}, tls))
}

interface Health {
  endpoint: string
  health: boolean
  took: string
  error?: string
}

/** etcdctl's check: a linearizable read of "health", then no active alarm. */
async function checkHealth(endpoint: string, tls: ClientTls): Promise<Health> {
  const start = process.hrtime.bigint()
  try {
    await rpc(endpoint, 'kv/range', { key: Buffer.from('health').toString('base64') }, tls)
  } catch (err) {
    return { endpoint, health: false, took: goDuration(process.hrtime.bigint() - start), error: (err as Error).message }
  }
  const took = goDuration(process.hrtime.bigint() - start)
  try {
    const { alarms = [] } = await rpc<{ alarms?: Array<{ alarm?: string }> }>(endpoint, 'maintenance/alarm', {}, tls)
    if (alarms.length === 0) return { endpoint, health: true, took }
    const names = alarms.map((a) => (a.alarm === 'NOSPACE' || a.alarm === 'CORRUPT' ? a.alarm : 'UNKNOWN') + ' ').join('')
    return { endpoint, health: false, took, error: 'Active Alarm(s): ' + names }
  } catch {
    return { endpoint, health: false, took, error: 'Unable to fetch the alarm list' }
  }
}

export function registerClusterStatusCommands(program: Command): void {
  const endpoint = program.command('endpoint').description('health and status of gateway endpoints (as etcdctl endpoint)')

  addTlsOptions(endpoint.command('health'))
    .description('checks the health of the endpoints (a linearizable read, then alarms)')
    .addOption(endpointsOption())
    .addOption(writeOutOption(formats))
    .action(async (opts: { endpoints: string; writeOut: Format } & TlsFlags) => {
      const tls = clientTls(opts)
      const results = await Promise.all(endpointList(opts.endpoints).map((ep) => checkHealth(ep, tls)))
      if (opts.writeOut === 'json') {
        process.stdout.write(JSON.stringify(results) + '\n')
      } else if (opts.writeOut === 'table') {
        process.stdout.write(table(['ENDPOINT', 'HEALTH', 'TOOK', 'ERROR'], results.map((h) => [h.endpoint, String(h.health), h.took, h.error ?? ''])))
      } else {
        for (const h of results) {
          if (h.health) process.stdout.write(`${h.endpoint} is healthy: successfully committed proposal: took = ${h.took}\n`)
          else process.stderr.write(`${h.endpoint} is unhealthy: failed to commit proposal: ${h.error}\n`)
        }
      }
      if (results.some((h) => !h.health)) fail('unhealthy cluster')
    })

  addTlsOptions(endpoint.command('status'))
    .description('prints the status of the endpoints (as etcdctl endpoint status)')
    .addOption(endpointsOption())
    .addOption(writeOutOption(formats))
    .action(async (opts: { endpoints: string; writeOut: Format } & TlsFlags) => {
      const tls = clientTls(opts)
      const rows: Array<{ endpoint: string; raw: string }> = []
      for (const ep of endpointList(opts.endpoints)) {
        try {
          rows.push({ endpoint: ep, raw: await rawRpc(ep, 'maintenance/status', tls) })
        } catch (err) {
          process.stderr.write(`Failed to get the status of endpoint ${ep} (${(err as Error).message})\n`)
        }
      }
      if (opts.writeOut === 'json') {
        process.stdout.write('[' + rows.map((r) => `{"Endpoint":${JSON.stringify(r.endpoint)},"Status":${etcdctlJson(r.raw)}}`).join(',') + ']\n')
      } else {
        const cells = rows.map(({ endpoint: ep, raw }) => {
          const s = JSON.parse(raw) as StatusBody
          return [
            ep,
            hexId(BigInt(s.header.member_id ?? 0)),
            s.version ?? '',
            humanBytes(Number(s.dbSize ?? 0)),
            String(s.leader !== undefined && s.leader === s.header.member_id),
            String(s.isLearner === true),
            s.raftTerm ?? '0',
            s.raftIndex ?? '0',
            s.raftAppliedIndex ?? '0',
            (s.errors ?? []).join(', '),
          ]
        })
        if (opts.writeOut === 'table') {
          const headers = ['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS']
          process.stdout.write(table(headers, cells))
        } else {
          for (const c of cells) process.stdout.write(c.join(', ') + '\n')
        }
      }
      if (rows.length === 0) fail('no endpoint answered')
    })

  const member = program.command('member').description('cluster members through a gateway (as etcdctl member)')
  addTlsOptions(member.command('list'))
    .description('lists the members of the cluster')
    .addOption(endpointsOption())
    .addOption(writeOutOption(formats))
    .action(async (opts: { endpoints: string; writeOut: Format } & TlsFlags) => {
      const tls = clientTls(opts)
      let raw: string | undefined
      let lastError = ''
      for (const ep of endpointList(opts.endpoints)) {
        try {
          raw = await rawRpc(ep, 'cluster/member/list', tls)
          break
        } catch (err) {
          lastError = (err as Error).message
        }
      }
      if (raw === undefined) fail(lastError)
      if (opts.writeOut === 'json') {
        process.stdout.write(etcdctlJson(raw) + '\n')
        return
      }
      const members = (JSON.parse(raw) as { members?: MemberBody[] }).members ?? []
      const cells = members.map((m) => [
        hexId(BigInt(m.ID ?? 0)),
        m.name ? 'started' : 'unstarted',
        m.name ?? '',
        (m.peerURLs ?? []).join(','),
        (m.clientURLs ?? []).join(','),
        String(m.isLearner === true),
      ])
      if (opts.writeOut === 'table') {
        process.stdout.write(table(['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'IS LEARNER'], cells))
      } else {
        for (const c of cells) process.stdout.write(c.join(', ') + '\n')
      }
    })
}
