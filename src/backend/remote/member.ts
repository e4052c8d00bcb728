import * as grpc from '@grpc/grpc-js'
import { etcdServices, type ServiceName } from './proto.js'

export type MemberHealth = 'healthy' | 'noLeader' | 'down'

type UnaryMethod = (
  req: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, res: unknown) => void,
) => grpc.ClientUnaryCall

type ServerStreamMethod = (req: unknown, metadata: grpc.Metadata) => grpc.ClientReadableStream<unknown>

type DuplexMethod = (metadata: grpc.Metadata) => grpc.ClientDuplexStream<unknown, unknown>

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // etcd answers ranges far larger than grpc's 4 MiB default (clientv3 allows up to 2 GiB)
  'grpc.max_receive_message_length': -1,
  // etcd's default --grpc-keepalive-min-time is 5 s: ping less often, and only while calls are open
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 0,
  // a restarted member is used again within a second, not after grpc's default backoff of up to 2 min
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
}

/** etcd's `hasleader` metadata: a member without a leader refuses the call at once instead of queueing it. */
export function requireLeader(): grpc.Metadata {
  const md = new grpc.Metadata()
  md.set('hasleader', 'true')
  return md
}

/** One etcd endpoint: a single HTTP/2 channel shared by the clients of every etcd service. */
export class Member {
  health: MemberHealth = 'healthy'
  /** etcd's member ID, once a probe has answered */
  id = ''
  private channel: grpc.Channel
  private readonly clients = new Map<ServiceName, grpc.Client>()

  constructor(
    readonly endpoint: string,
    private credentials: grpc.ChannelCredentials,
  ) {
    this.channel = new grpc.Channel(target(endpoint), credentials, CHANNEL_OPTIONS)
  }

  /**
   * New calls use `credentials` (a renewed client certificate, a new CA) from now on. Calls and streams
   * already running finish on the old connection: closing a grpc-js channel only cancels calls not yet started.
   */
  replaceCredentials(credentials: grpc.ChannelCredentials): void {
    const old = { channel: this.channel, clients: [...this.clients.values()] }
    this.credentials = credentials
    this.channel = new grpc.Channel(target(this.endpoint), credentials, CHANNEL_OPTIONS)
    this.clients.clear()
    for (const client of old.clients) client.close()
    old.channel.close()
  }

  unary<Res>(service: ServiceName, method: string, req: unknown, deadline: number, metadata: grpc.Metadata): Promise<Res> {
    const fn = this.method(service, method) as UnaryMethod
    return new Promise((resolve, reject) => {
      fn(req, metadata, { deadline: new Date(deadline) }, (err, res) => (err ? reject(err) : resolve(res as Res)))
    })
  }

  serverStream<Res>(service: ServiceName, method: string, req: unknown, metadata: grpc.Metadata): grpc.ClientReadableStream<Res> {
    return (this.method(service, method) as ServerStreamMethod)(req, metadata) as grpc.ClientReadableStream<Res>
  }

  duplex<Req, Res>(service: ServiceName, method: string, metadata: grpc.Metadata): grpc.ClientDuplexStream<Req, Res> {
    return (this.method(service, method) as DuplexMethod)(metadata) as grpc.ClientDuplexStream<Req, Res>
  }

  close(): void {
    for (const client of this.clients.values()) client.close()
    this.channel.close()
  }

  private method(service: ServiceName, method: string): (...args: never[]) => unknown {
    let client = this.clients.get(service)
    if (!client) {
      const Client = etcdServices()[service]
      client = new Client(target(this.endpoint), this.credentials, { channelOverride: this.channel })
      this.clients.set(service, client)
    }
    const fn = (client as unknown as Record<string, (...args: never[]) => unknown>)[method]
    if (typeof fn !== 'function') throw new Error(`etcd service ${service} has no method ${method}`)
    return fn.bind(client)
  }
}

/** grpc's target for an etcdctl-style endpoint: `https://host:port`, `http://host:port` or `host:port`. */
function target(endpoint: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? new URL(endpoint).host : endpoint
}
