import { AlarmType, type AlarmMember } from '../backend.js'
import type { MvccStore } from './mvcc-store.js'

const META_KEY = 'alarms'

/**
 * etcd's alarm store: (member, type) pairs raised by any client, kept across restarts. Any alarm of
 * any member restricts writes (etcd applies alarms cluster-wide).
 */
export class AlarmStore {
  private readonly alarms: AlarmMember[]

  constructor(private readonly store: MvccStore) {
    const saved = store.getMeta<Array<[string, number]>>(META_KEY) ?? []
    this.alarms = saved.map(([id, alarm]) => ({ memberId: BigInt(id), alarm }))
  }

  /** NONE lists every alarm (etcd's GET ignores the member). */
  list(type: AlarmType): AlarmMember[] {
    return this.alarms.filter((a) => type === AlarmType.NONE || a.alarm === type).map((a) => ({ ...a }))
  }

  has(type: AlarmType): boolean {
    return this.alarms.some((a) => a.alarm === type)
  }

  /** Raises the alarm (even of type NONE or for an unknown member, as etcd); returns it. */
  async activate(memberId: bigint, alarm: AlarmType): Promise<AlarmMember> {
    if (!this.find(memberId, alarm)) {
      this.alarms.push({ memberId, alarm })
      await this.save()
    }
    return { memberId, alarm }
  }

  /** Clears the alarm; returns it, or undefined when it was not raised. */
  async deactivate(memberId: bigint, alarm: AlarmType): Promise<AlarmMember | undefined> {
    const found = this.find(memberId, alarm)
    if (!found) return undefined
    this.alarms.splice(this.alarms.indexOf(found), 1)
    await this.save()
    return { memberId, alarm }
  }

  /** etcd's status `errors`: each alarm as protobuf text, zero fields left out ("memberID:5 alarm:NOSPACE "). */
  describe(): string[] {
    return this.alarms.map((a) => {
      let s = a.memberId !== 0n ? `memberID:${BigInt.asUintN(64, a.memberId)} ` : ''
      if (a.alarm !== AlarmType.NONE) s += `alarm:${AlarmType[a.alarm] ?? a.alarm} `
      return s
    })
  }

  private find(memberId: bigint, alarm: AlarmType): AlarmMember | undefined {
    return this.alarms.find((a) => a.memberId === memberId && a.alarm === alarm)
  }

  private save(): Promise<void> {
    return this.store.setMeta(META_KEY, this.alarms.map((a) => [a.memberId.toString(), a.alarm]))
  }
}
