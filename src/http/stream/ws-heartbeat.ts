/**
 * Finds dead WebSocket peers (etcd never pings, so a vanished client holds its watches forever): a
 * socket silent for a whole interval is pinged, and one that is still silent an interval later is
 * terminated. One timer serves every socket.
 */
import type { WebSocket } from 'ws'

interface Liveness {
  heard: boolean
  pinged: boolean
}

export class WsHeartbeat {
  private readonly sockets = new Map<WebSocket, Liveness>()
  private readonly timer: NodeJS.Timeout

  constructor(intervalMs: number) {
    this.timer = setInterval(() => this.tick(), intervalMs)
    this.timer.unref()
  }

  watch(socket: WebSocket): void {
    const state: Liveness = { heard: true, pinged: false }
    const heard = () => {
      state.heard = true
      state.pinged = false
    }
    this.sockets.set(socket, state)
    socket.on('message', heard)
    socket.on('pong', heard)
    socket.on('close', () => this.sockets.delete(socket))
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private tick(): void {
    for (const [socket, state] of this.sockets) {
      if (state.heard) {
        state.heard = false
      } else if (state.pinged) {
        socket.terminate()
        this.sockets.delete(socket)
      } else {
        state.pinged = true
        socket.ping()
      }
    }
  }
}
