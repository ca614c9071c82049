/** A WebSocket test client that collects the JSON messages a server sends. */
import WebSocket from 'ws'
import type { RunEvent } from '../../src/index.js'

export class WsClient {
  readonly messages: Record<string, unknown>[] = []
  readonly socket: WebSocket
  /** How the server closed the socket, once it has. */
  closed: { code: number; reason: string } | undefined
  /** Resolves when the upgrade succeeded; rejects with the HTTP status when it was refused. */
  readonly opened: Promise<void>

  constructor(url: string, headers: Record<string, string> = {}) {
    this.socket = new WebSocket(url, { headers })
    this.socket.on('message', (data: Buffer) => this.messages.push(JSON.parse(data.toString()) as Record<string, unknown>))
    this.socket.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }))
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve())
      this.socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
      this.socket.once('error', reject)
    })
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message))
  }

  of(type: string): Record<string, unknown>[] {
    return this.messages.filter((m) => m.type === type)
  }

  /** Events received, of one subscription when `id` is given. */
  events(id?: string): { seq: number; event: RunEvent }[] {
    return this.of('event').filter((m) => id === undefined || m.id === id) as unknown as { seq: number; event: RunEvent }[]
  }
}
