/** Messages between the fan-out bench and its client processes (over the child's IPC channel). */

/** One put: when it was sent and when its HTTP response ended, in monotonic ns; the revision it made. */
export interface PutTiming {
  revision: number
  sendNs: number
  ackNs: number
}

export type FanoutClientRequest =
  | { type: 'open'; url: string; key: string; count: number }
  | { type: 'collect'; puts: PutTiming[]; waitMs: number }

export interface FanoutClientResult {
  fromAckMs: number[]
  fromSendMs: number[]
  missing: number
}

export type FanoutClientReply =
  | { type: 'ready'; openMs: number }
  | { type: 'failed'; error: string }
  | ({ type: 'result' } & FanoutClientResult)
