/**
 * Which backups a directory may let go. A backup is kept when any policy given keeps it; with no policy,
 * all are kept. Only verified backups are ever candidates, the newest verified one never is, and neither is
 * one whose time is not provably past what the policy allows (a time ahead of the clock, say).
 */
export interface RetentionPolicy {
  /** Keep the newest N verified backups. */
  keep?: number
  /** Keep backups younger than this. */
  keepForMs?: number
  /** etcd-backup-restore's exponential policy: all of the last hour, one per hour for a day, per day for a week, per week for four. */
  exponential?: boolean
}

export interface RetainedBackup {
  name: string
  time: Date
  verified: boolean
}

const HOUR = 3_600_000
const DAY = 24 * HOUR
const WEEK = 7 * DAY

export function hasPolicy(p: RetentionPolicy): boolean {
  return p.keep !== undefined || p.keepForMs !== undefined || p.exponential === true
}

/** The names to delete, oldest first. */
export function expiredBackups(backups: readonly RetainedBackup[], policy: RetentionPolicy, now: Date): string[] {
  if (!hasPolicy(policy)) return []
  const verified = backups.filter((b) => b.verified).sort((a, b) => a.time.getTime() - b.time.getTime())
  const kept = new Set<RetainedBackup>(verified.slice(-1))
  const t = now.getTime()
  for (const b of verified) if (b.time.getTime() > t) kept.add(b)
  if (policy.keep !== undefined) for (const b of verified.slice(Math.max(0, verified.length - policy.keep))) kept.add(b)
  if (policy.keepForMs !== undefined) for (const b of verified) if (t - b.time.getTime() <= policy.keepForMs) kept.add(b)
  if (policy.exponential) for (const b of exponentialKeeps(verified, t)) kept.add(b)
  return verified.filter((b) => !kept.has(b)).map((b) => b.name)
}

/** The newest backup of each hour (for a day), day (a week) and week (four weeks); all of the last hour. */
function exponentialKeeps(oldestFirst: readonly RetainedBackup[], now: number): RetainedBackup[] {
  const tiers: Array<[maxAge: number, slot: number]> = [
    [DAY, HOUR],
    [WEEK, DAY],
    [4 * WEEK, WEEK],
  ]
  const newestPerSlot = new Map<string, RetainedBackup>()
  const keeps: RetainedBackup[] = []
  for (const b of oldestFirst) {
    const age = now - b.time.getTime()
    if (age < HOUR) {
      keeps.push(b)
      continue
    }
    const tier = tiers.findIndex(([maxAge]) => age < maxAge)
    if (tier === -1) continue
    newestPerSlot.set(`${tier}/${Math.floor(b.time.getTime() / tiers[tier]![1])}`, b)
  }
  return [...keeps, ...newestPerSlot.values()]
}
