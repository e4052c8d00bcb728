/** `etcdgw endpoint health|status` and `etcdgw member list`: etcdctl's commands, over a gateway's HTTP. */
import type { Command } from 'commander'
import {
  type EndpointStatus,
  type Health,
  type MemberListBody,
  printEndpointHealth,
  printEndpointStatus,
  printMemberList,
  type StatusBody,
} from './cluster-status-output.js'
import { addAccessOptions, gatewayAccess, type GatewayAccess, endpointList, endpointsOption, fail, rpc, type AccessFlags, writeOutOption } from './gateway-client.js'
import { type Format, goDuration } from './output.js'

const formats = ['simple', 'table', 'json']

type Flags = { endpoints: string; writeOut: Format } & AccessFlags

/** etcdctl's check: a linearizable read of "health", then no active alarm. */
async function checkHealth(endpoint: string, tls: GatewayAccess): Promise<Health> {
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

/** Every endpoint's status; as etcdctl, an endpoint that does not answer is reported on stderr and left out. */
async function statusOfEach(endpoints: string[], tls: GatewayAccess): Promise<EndpointStatus[]> {
  const statuses: EndpointStatus[] = []
  for (const endpoint of endpoints) {
    try {
      statuses.push({ endpoint, status: await rpc<StatusBody>(endpoint, 'maintenance/status', {}, tls) })
    } catch (err) {
      process.stderr.write(`Failed to get the status of endpoint ${endpoint} (${(err as Error).message})\n`)
    }
  }
  return statuses
}

/** The member list from the first endpoint that answers. */
async function memberList(endpoints: string[], tls: GatewayAccess): Promise<MemberListBody> {
  let lastError = ''
  for (const endpoint of endpoints) {
    try {
      return await rpc<MemberListBody>(endpoint, 'cluster/member/list', {}, tls)
    } catch (err) {
      lastError = (err as Error).message
    }
  }
  fail(lastError)
}

const withFlags = (command: Command) => addAccessOptions(command).addOption(endpointsOption()).addOption(writeOutOption(formats))

export function registerClusterStatusCommands(program: Command): void {
  const endpoint = program.command('endpoint').description('health and status of gateway endpoints (as etcdctl endpoint)')

  withFlags(endpoint.command('health'))
    .description('checks the health of the endpoints (a linearizable read, then alarms)')
    .action(async (opts: Flags) => {
      const tls = gatewayAccess(opts)
      const results = await Promise.all(endpointList(opts.endpoints).map((ep) => checkHealth(ep, tls)))
      printEndpointHealth(results, opts.writeOut)
      if (results.some((h) => !h.health)) fail('unhealthy cluster')
    })

  withFlags(endpoint.command('status'))
    .description('prints the status of the endpoints (as etcdctl endpoint status)')
    .action(async (opts: Flags) => {
      const statuses = await statusOfEach(endpointList(opts.endpoints), gatewayAccess(opts))
      printEndpointStatus(statuses, opts.writeOut)
      if (statuses.length === 0) fail('no endpoint answered')
    })

  const member = program.command('member').description('cluster members through a gateway (as etcdctl member)')
  withFlags(member.command('list'))
    .description('lists the members of the cluster')
    .action(async (opts: Flags) => printMemberList(await memberList(endpointList(opts.endpoints), gatewayAccess(opts)), opts.writeOut))
}
