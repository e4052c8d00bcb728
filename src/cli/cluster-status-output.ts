/** What `etcdgw endpoint health|status` and `etcdgw member list` print: etcdctl's layouts, byte for byte. */
import { etcdctlJson, type Format, hexId, humanBytes, layoutRows, table } from './output.js'

/** One endpoint's health, as etcdctl's epHealth (its -w json field names). */
export interface Health {
  endpoint: string
  health: boolean
  took: string
  error?: string
}

/** A gateway's StatusResponse, parsed. */
export interface StatusBody {
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

export interface EndpointStatus {
  endpoint: string
  status: StatusBody
}

interface MemberBody {
  ID?: string
  name?: string
  peerURLs?: string[]
  clientURLs?: string[]
  isLearner?: boolean
}

/** A gateway's MemberListResponse, parsed. */
export interface MemberListBody {
  members?: MemberBody[]
}

/** As etcdctl: in the simple layout the healthy endpoints go to stdout, the others to stderr. */
export function printEndpointHealth(results: Health[], format: Format): void {
  if (format === 'json') return void process.stdout.write(JSON.stringify(results) + '\n')
  if (format === 'table') {
    const cells = results.map((h) => [h.endpoint, String(h.health), h.took, h.error ?? ''])
    return void process.stdout.write(table(['ENDPOINT', 'HEALTH', 'TOOK', 'ERROR'], cells))
  }
  for (const h of results) {
    if (h.health) process.stdout.write(`${h.endpoint} is healthy: successfully committed proposal: took = ${h.took}\n`)
    else process.stderr.write(`${h.endpoint} is unhealthy: failed to commit proposal: ${h.error}\n`)
  }
}

const statusHeaders = ['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS']

export function printEndpointStatus(statuses: EndpointStatus[], format: Format): void {
  if (format === 'json') {
    const entries = statuses.map((s) => `{"Endpoint":${JSON.stringify(s.endpoint)},"Status":${etcdctlJson(s.status)}}`)
    return void process.stdout.write('[' + entries.join(',') + ']\n')
  }
  const cells = statuses.map(({ endpoint, status: s }) => [
    endpoint,
    hexId(BigInt(s.header.member_id ?? 0)),
    s.version ?? '',
    humanBytes(Number(s.dbSize ?? 0)),
    String(s.leader !== undefined && s.leader === s.header.member_id),
    String(s.isLearner === true),
    s.raftTerm ?? '0',
    s.raftIndex ?? '0',
    s.raftAppliedIndex ?? '0',
    (s.errors ?? []).join(', '),
  ])
  process.stdout.write(layoutRows(format, statusHeaders, cells))
}

export function printMemberList(list: MemberListBody, format: Format): void {
  if (format === 'json') return void process.stdout.write(etcdctlJson(list) + '\n')
  const cells = (list.members ?? []).map((m) => [
    hexId(BigInt(m.ID ?? 0)),
    m.name ? 'started' : 'unstarted',
    m.name ?? '',
    (m.peerURLs ?? []).join(','),
    (m.clientURLs ?? []).join(','),
    String(m.isLearner === true),
  ])
  process.stdout.write(layoutRows(format, ['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'IS LEARNER'], cells))
}
