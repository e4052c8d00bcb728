/**
 * etcd's gRPC server metrics (go-grpc-prometheus's grpc_server_* and etcd's client traffic and request
 * counters), counted where etcdgw serves the RPC each route stands for, over HTTP or WebSocket: a call
 * starts where etcd's gateway starts its gRPC call (a unary call once its message decodes, a stream when
 * it opens) and ends with its gRPC code.
 */
import type { Registry } from 'prom-client'
import { CellCounter, CellHistogram, type CounterCell, type HistogramCell } from '../metric-cells.js'
import { GrpcCode } from '../errors.js'
import { type GrpcMethod, grpcMethods } from './api/grpc-methods.js'

type Labels = { grpc_type: string; grpc_service: string; grpc_method: string }

/** Go's names of the gRPC codes (codes.Code.String()), by number. */
const codeNames: readonly string[] = Object.values(GrpcCode).filter((v): v is string => typeof v === 'string')

/** KV methods → etcd's mvcc operation counters, counted when the call succeeds. */
const mvccOps: Record<string, string> = { Put: 'put', Range: 'range', Txn: 'txn', DeleteRange: 'delete' }

/** go-grpc-prometheus's default buckets. */
const handlingBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The counters of one method, made once. */
interface MethodCounters {
  started: CounterCell
  received: CounterCell
  sent: CounterCell
  handled: CounterCell[]
  handling: HistogramCell
  /** The mvcc counter a successful call adds to (KV's methods). */
  mvcc: CounterCell | undefined
}

export class GrpcMetrics {
  private readonly byMethod = new Map<GrpcMethod, MethodCounters>()
  private readonly receivedBytes: CounterCell
  private readonly sentBytes: CounterCell
  /** etcd's requests by client API version (sent by etcd's Go client; never by a gateway's client) and type. */
  private readonly requests: { unary: CounterCell; stream: CounterCell }

  /** Every method starts at zero with every code, as etcd's server initializes them. */
  constructor(registry: Registry) {
    const registers = [registry]
    const labelNames = ['grpc_type', 'grpc_service', 'grpc_method']
    const counter = (name: string, help: string, extra: string[] = []) =>
      new CellCounter({ name, help, labelNames: [...labelNames, ...extra], registers })
    const started = counter('grpc_server_started_total', 'Total number of RPCs started on the server.')
    const handled = counter('grpc_server_handled_total', 'Total number of RPCs completed on the server, regardless of success or failure.', ['grpc_code'])
    const received = counter('grpc_server_msg_received_total', 'Total number of RPC stream messages received on the server.')
    const sent = counter('grpc_server_msg_sent_total', 'Total number of gRPC stream messages sent by the server.')
    const handling = new CellHistogram({
      name: 'grpc_server_handling_seconds',
      help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
      labelNames,
      buckets: handlingBuckets,
      registers,
    })
    this.receivedBytes = new CellCounter({ name: 'etcd_network_client_grpc_received_bytes_total', help: 'The total number of bytes received from grpc clients.', registers }).cell()
    this.sentBytes = new CellCounter({ name: 'etcd_network_client_grpc_sent_bytes_total', help: 'The total number of bytes sent to grpc clients.', registers }).cell()
    const requests = new CellCounter({
      name: 'etcd_server_client_requests_total',
      help: 'The total number of client requests per client version.',
      labelNames: ['type', 'client_api_version'],
      registers,
    })
    this.requests = {
      unary: requests.cell({ type: 'unary', client_api_version: 'unknown' }, false),
      stream: requests.cell({ type: 'stream', client_api_version: 'unknown' }, false),
    }
    const mvcc = new Map(
      [...new Set(Object.values(mvccOps))].map((op) => [
        op,
        new CellCounter({ name: `etcd_mvcc_${op}_total`, help: `Total number of ${op}s seen by this member.`, registers }).cell(),
      ]),
    )
    for (const m of grpcMethods()) {
      const labels: Labels = { grpc_type: m.type, grpc_service: m.service, grpc_method: m.method }
      this.byMethod.set(m, {
        started: started.cell(labels),
        received: received.cell(labels),
        sent: sent.cell(labels),
        handled: codeNames.map((grpc_code) => handled.cell({ ...labels, grpc_code })),
        handling: handling.cell(`${m.service}/${m.method}`, () => labels),
        mvcc: m.service === 'etcdserverpb.KV' ? mvcc.get(mvccOps[m.method] ?? '') : undefined,
      })
    }
  }

  /** A call of `method` starts now. */
  start(method: GrpcMethod): RpcCall {
    this.requests[method.type === 'unary' ? 'unary' : 'stream'].inc()
    return new RpcCall(this.byMethod.get(method)!, this)
  }

  /** Message bytes from and to clients. */
  countReceived(bytes: number): void {
    this.receivedBytes.inc(bytes)
  }

  countSent(bytes: number): void {
    this.sentBytes.inc(bytes)
  }
}

/** One RPC under way: its messages each way, then its end with a gRPC code. */
export class RpcCall {
  private readonly startedAt = process.hrtime.bigint()
  private ended = false

  constructor(
    private readonly counters: MethodCounters,
    private readonly metrics: GrpcMetrics,
  ) {
    counters.started.inc()
  }

  received(bytes: number): void {
    this.counters.received.inc()
    this.metrics.countReceived(bytes)
  }

  sent(bytes: number): void {
    this.counters.sent.inc()
    this.metrics.countSent(bytes)
  }

  /** Ends the call once; later calls are ignored (a stream can end from either side). */
  end(code: GrpcCode): void {
    if (this.ended) return
    this.ended = true
    this.counters.handled[code]!.inc()
    if (code === GrpcCode.OK) this.counters.mvcc?.inc()
    this.counters.handling.observe(Number(process.hrtime.bigint() - this.startedAt) / 1e9)
  }
}
