/**
 * What etcd's published monitoring reads, recorded as facts: every metric family, its type and the labels
 * that the etcd mixin's alert rules and Grafana dashboard query (read from etcd-io/etcd contrib/mixin:
 * alerts/alerts.libsonnet at 19a6baf236a5f182cf8320a10a175cbc2e86b185, dashboards/targets.libsonnet at
 * 7c04798b041b3497b05e0aa0e899b59ac62c0ce1, dashboards/variables.libsonnet at
 * 5dabe454b6a042b9510386508883afd0cd5304f6, config.libsonnet at 7c04798b041b3497b05e0aa0e899b59ac62c0ce1;
 * the mixin shipped with kube-prometheus). Types and labels are etcd 3.4.23's (its /metrics, or its source
 * for the peer families a one-member etcd does not expose). `job`, `instance` and `cluster` are target
 * labels Prometheus adds, and `up` is Prometheus's own: neither is the target's to expose.
 */

export interface MixinFamily {
  name: string
  type: 'counter' | 'gauge' | 'histogram'
  /** Label names etcd gives its samples (a histogram's `le` aside). */
  labels: string[]
  /** Alert names and dashboard panels that read it. */
  readBy: string[]
}

const grpc = ['grpc_method', 'grpc_service', 'grpc_type']

export const mixinFamilies: MixinFamily[] = [
  { name: 'etcd_server_has_leader', type: 'gauge', labels: [], readBy: ['alert etcdNoLeader', 'dashboard up', 'dashboard variable cluster'] },
  { name: 'etcd_server_leader_changes_seen_total', type: 'counter', labels: [], readBy: ['alert etcdHighNumberOfLeaderChanges', 'dashboard leaderElections'] },
  { name: 'grpc_server_handled_total', type: 'counter', labels: ['grpc_code', ...grpc], readBy: ['alert etcdHighNumberOfFailedGRPCRequests', 'dashboard rpcRate rpcFailedRate', 'dashboard watchStreams leaseStreams'] },
  { name: 'grpc_server_started_total', type: 'counter', labels: grpc, readBy: ['dashboard rpcRate rpcFailedRate', 'dashboard watchStreams leaseStreams'] },
  // etcd 3.4 exposes it with --metrics=extensive only
  { name: 'grpc_server_handling_seconds', type: 'histogram', labels: grpc, readBy: ['alert etcdGRPCRequestsSlow'] },
  { name: 'etcd_server_proposals_failed_total', type: 'counter', labels: [], readBy: ['alert etcdHighNumberOfFailedProposals'] },
  { name: 'etcd_disk_wal_fsync_duration_seconds', type: 'histogram', labels: [], readBy: ['alert etcdHighFsyncDurations', 'dashboard walFsync dbFsync'] },
  { name: 'etcd_disk_backend_commit_duration_seconds', type: 'histogram', labels: [], readBy: ['alert etcdHighCommitDurations', 'dashboard walFsync dbFsync'] },
  { name: 'etcd_mvcc_db_total_size_in_bytes', type: 'gauge', labels: [], readBy: ['alerts etcdDatabaseQuotaLowSpace etcdExcessiveDatabaseGrowth etcdDatabaseHighFragmentationRatio', 'dashboard dbSize'] },
  { name: 'etcd_mvcc_db_total_size_in_use_in_bytes', type: 'gauge', labels: [], readBy: ['alert etcdDatabaseHighFragmentationRatio'] },
  { name: 'etcd_server_quota_backend_bytes', type: 'gauge', labels: [], readBy: ['alerts etcdDatabaseQuotaLowSpace etcdExcessiveDatabaseGrowth'] },
  { name: 'process_resident_memory_bytes', type: 'gauge', labels: [], readBy: ['dashboard memory'] },
  { name: 'etcd_network_client_grpc_received_bytes_total', type: 'counter', labels: [], readBy: ['dashboard clientTrafficIn'] },
  { name: 'etcd_network_client_grpc_sent_bytes_total', type: 'counter', labels: [], readBy: ['dashboard clientTrafficOut'] },
  { name: 'etcd_network_peer_sent_failures_total', type: 'counter', labels: ['To'], readBy: ['alert etcdMembersDown'] },
  { name: 'etcd_network_peer_round_trip_time_seconds', type: 'histogram', labels: ['To'], readBy: ['alert etcdMemberCommunicationSlow', 'dashboard peerRtt'] },
  { name: 'etcd_network_peer_received_bytes_total', type: 'counter', labels: ['From'], readBy: ['dashboard peerTrafficIn'] },
  { name: 'etcd_network_peer_sent_bytes_total', type: 'counter', labels: ['To'], readBy: ['dashboard peerTrafficOut'] },
]

/**
 * The dashboard's queries (targets.libsonnet) with their Grafana variables; `$__rate_interval` is
 * Grafana's, at least four scrape intervals. The peer panels' queries are left out with the families.
 */
export const dashboardQueries: Record<string, string> = {
  up: 'sum(etcd_server_has_leader{job="$job", cluster="$cluster"})',
  rpcRate: 'sum(rate(grpc_server_started_total{job="$job", cluster="$cluster",grpc_type="unary"}[$__rate_interval]))',
  rpcFailedRate:
    'sum(rate(grpc_server_handled_total{job="$job", cluster="$cluster",grpc_type="unary",grpc_code=~"Unknown|FailedPrecondition|ResourceExhausted|Internal|Unavailable|DataLoss|DeadlineExceeded"}[$__rate_interval]))',
  watchStreams:
    'sum(grpc_server_started_total{job="$job",cluster="$cluster",grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"}) - sum(grpc_server_handled_total{job="$job",cluster="$cluster",grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"})',
  leaseStreams:
    'sum(grpc_server_started_total{job="$job",cluster="$cluster",grpc_service="etcdserverpb.Lease",grpc_type="bidi_stream"}) - sum(grpc_server_handled_total{job="$job",cluster="$cluster",grpc_service="etcdserverpb.Lease",grpc_type="bidi_stream"})',
  dbSize: 'etcd_mvcc_db_total_size_in_bytes{job="$job", cluster="$cluster"}',
  walFsync: 'histogram_quantile(0.99, sum(rate(etcd_disk_wal_fsync_duration_seconds_bucket{job="$job", cluster="$cluster"}[$__rate_interval])) by (instance, le))',
  dbFsync: 'histogram_quantile(0.99, sum(rate(etcd_disk_backend_commit_duration_seconds_bucket{job="$job", cluster="$cluster"}[$__rate_interval])) by (instance, le))',
  memory: 'process_resident_memory_bytes{job="$job", cluster="$cluster"}',
  clientTrafficIn: 'rate(etcd_network_client_grpc_received_bytes_total{job="$job", cluster="$cluster"}[$__rate_interval])',
  clientTrafficOut: 'rate(etcd_network_client_grpc_sent_bytes_total{job="$job", cluster="$cluster"}[$__rate_interval])',
  leaderElections: 'changes(etcd_server_leader_changes_seen_total{job="$job", cluster="$cluster"}[1d])',
  clusterVariable: 'etcd_server_has_leader{job=~".*etcd.*"}',
}
