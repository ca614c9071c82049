/**
 * `GET /api/stream` (WebSocket): one {@link StreamSession} per connection, fed from the
 * server's {@link EventLog}. Callers who may read only their own runs get only those runs'
 * events and log lines.
 */
import type { NodeWebSocket } from '@hono/node-ws'
import type { MiddlewareHandler } from 'hono'
import type { WSContext } from 'hono/ws'
import type { Engine } from '../../engine/engine.js'
import { readScope, type ServerContext } from '../caller.js'
import { checkQuery } from '../query.js'
import type { EventLog } from './event-log.js'
import { StreamSession, type StreamLimits } from './session.js'

/** What the stream needs from `createServer`. */
export interface StreamDeps {
  readonly engine: Engine
  readonly log: EventLog
  readonly limits: StreamLimits
  /** Counts a client dropped as too slow. */
  readonly onOverflow: () => void
  /** Keeps the session and its socket, so that closing the server closes them. */
  readonly track: (session: StreamSession, socket: WSContext) => void
}

export function streamRoute(upgrade: NodeWebSocket['upgradeWebSocket'], deps: StreamDeps): MiddlewareHandler {
  return upgrade((c) => {
    checkQuery(c as ServerContext, [])
    const scope = readScope(c as ServerContext)
    let session: StreamSession | undefined
    return {
      onOpen(_event, socket) {
        session = new StreamSession(socket, deps.engine, deps.log, deps.limits, scope, deps.onOverflow)
        deps.track(session, socket)
      },
      onMessage(event) {
        // A DOM MessageEvent in hono's types, which the server's (Node) lib does not declare.
        session?.receive((event as { data: unknown }).data)
      },
      onClose() {
        session?.close()
      },
    }
  })
}
