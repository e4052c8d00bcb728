/** Where a backup's snapshot comes from: a store behind the Backend interface (etcd over gRPC, or our own), or a gateway URL. */
import type { Backend, SnapshotChunk } from '../backend/backend.js'
import { openRemoteBackend, type RemoteOptions } from '../backend/remote/index.js'
import type { GatewayAccess } from '../cli/gateway-client.js'
import { gatewaySnapshot } from '../cli/gateway-snapshot.js'

export interface SnapshotSource {
  /** For logs and sidecars: the endpoints or URL. */
  readonly description: string
  /** How often one backup may ask again after the stream failed: once per member for a cluster. */
  readonly attempts: number
  snapshot(): AsyncIterable<SnapshotChunk>
  close(): Promise<void>
}

export interface EtcdSource extends SnapshotSource {
  /** Re-reads --cacert/--cert/--key for the next snapshots (see RemoteBackend.reloadTls). */
  reloadTls(): boolean
}

/**
 * A real etcd cluster through the remote backend's endpoint pool: Maintenance.Snapshot over gRPC from the
 * member the pool picks; a member found down is avoided on the next attempt.
 */
export async function etcdSource(opts: RemoteOptions): Promise<EtcdSource> {
  // a snapshot needs no replica of the keyspace
  const backend = await openRemoteBackend({ ...opts, replica: false })
  return {
    ...backendSource(backend, opts.endpoints.join(','), opts.endpoints.length),
    reloadTls: () => backend.reloadTls(),
    close: () => backend.close(),
  }
}

/** A backend already open (the server's own store); closing the source leaves it open. */
export function backendSource(backend: Backend, description: string, attempts = 1): SnapshotSource {
  return { description, attempts, snapshot: () => backend.maintenance.snapshot(), close: async () => undefined }
}

/** An etcdgw (or etcd gateway) URL's /v3/maintenance/snapshot. */
export function gatewaySource(url: string, tls: GatewayAccess): SnapshotSource {
  return { description: url, attempts: 1, snapshot: () => gatewaySnapshot(url, tls), close: async () => undefined }
}
