import * as grpc from '@grpc/grpc-js'
import { channelCredentials, type ClientTls } from './credentials.js'
import { etcdServices, type ServiceName } from './proto.js'
import { UnarySession } from './unary-session.js'

export type MemberHealth = 'healthy' | 'noLeader' | 'down'

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

/**
 * One etcd endpoint: a grpc-js channel for the streams of every etcd service, and an HTTP/2 session of
 * node's own for the unary calls (see unary-session.ts).
 */
export class Member {
  health: MemberHealth = 'healthy'
  /** etcd's member ID, once a probe has answered */
  id = ''
  private credentials: grpc.ChannelCredentials
  private channel: grpc.Channel
  private session: UnarySession
  private readonly clients = new Map<ServiceName, grpc.Client>()

  constructor(
    readonly endpoint: string,
    /** undefined: plain text */
    tls: ClientTls | undefined,
  ) {
    this.credentials = channelCredentials(tls)
    this.channel = new grpc.Channel(target(endpoint), this.credentials, CHANNEL_OPTIONS)
    this.session = new UnarySession(origin(endpoint, tls), tls)
  }

  /**
   * New calls use `tls` (a renewed client certificate, a new CA) from now on. Calls and streams already
   * running finish on the old connections: closing a grpc-js channel only cancels calls not yet started.
   */
  replaceTls(tls: ClientTls | undefined): void {
    const old = { channel: this.channel, clients: [...this.clients.values()], session: this.session }
    this.credentials = channelCredentials(tls)
    this.channel = new grpc.Channel(target(this.endpoint), this.credentials, CHANNEL_OPTIONS)
    this.session = new UnarySession(origin(this.endpoint, tls), tls)
    this.clients.clear()
    for (const client of old.clients) client.close()
    old.channel.close()
    old.session.close()
  }

  async unary<Res>(service: ServiceName, method: string, req: unknown, deadline: number, metadata: grpc.Metadata): Promise<Res> {
    const definition = etcdServices()[service].service[method]
    if (!definition) throw new Error(`etcd service ${service} has no method ${method}`)
    const answer = await this.session.call(definition.path, definition.requestSerialize(req), deadline, metadata)
    return definition.responseDeserialize(answer) as Res
  }

  serverStream<Res>(service: ServiceName, method: string, req: unknown, metadata: grpc.Metadata): grpc.ClientReadableStream<Res> {
    return (this.method(service, method) as ServerStreamMethod)(req, metadata) as grpc.ClientReadableStream<Res>
  }

  duplex<Req, Res>(service: ServiceName, method: string, metadata: grpc.Metadata): grpc.ClientDuplexStream<Req, Res> {
    return (this.method(service, method) as DuplexMethod)(metadata) as grpc.ClientDuplexStream<Req, Res>
  }

  close(): void {
    this.session.close()
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

/** The URL origin of an etcdctl-style endpoint's unary session. */
function origin(endpoint: string, tls: ClientTls | undefined): string {
  return `${tls ? 'https' : 'http'}://${target(endpoint)}`
}

/** grpc's target for an etcdctl-style endpoint: `https://host:port`, `http://host:port` or `host:port`. */
function target(endpoint: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? new URL(endpoint).host : endpoint
}
