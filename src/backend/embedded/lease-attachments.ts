/** Which lease each key is attached to, kept by the store as it applies writes (etcd's Attach/Detach), and each lease's keys. */

export class LeaseAttachments {
  /** key (latin1) → the lease it is attached to */
  private readonly byKey = new Map<string, bigint>()
  private readonly byLease = new Map<bigint, Set<string>>()

  /** The key now holds `lease` (0: none); it leaves the lease it had. */
  attach(key: string, lease: bigint): void {
    this.detach(key)
    if (lease === 0n) return
    let keys = this.byLease.get(lease)
    if (!keys) this.byLease.set(lease, (keys = new Set()))
    keys.add(key)
    this.byKey.set(key, lease)
  }

  detach(key: string): void {
    const old = this.byKey.get(key)
    if (old === undefined) return
    const keys = this.byLease.get(old)!
    keys.delete(key)
    if (keys.size === 0) this.byLease.delete(old)
    this.byKey.delete(key)
  }

  /** The lease the key is attached to now (0 when none). */
  leaseOf(key: string): bigint {
    return this.byKey.get(key) ?? 0n
  }

  /** Every attached key and its lease. */
  entries(): Iterable<[string, bigint]> {
    return this.byKey.entries()
  }

  /** The keys attached to `lease`, in byte order. */
  keysOf(lease: bigint): string[] {
    return [...(this.byLease.get(lease) ?? [])].sort()
  }
}
