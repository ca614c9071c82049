/**
 * `GET /admin/task/:key/start?<args>` (WebSocket): starts an in-process run and streams it in
 * the task registry's message format (`protocol.ts`). Invalid arguments answer `error` and
 * close (4000). Closing the socket cancels the run; so does `{"cmd":"stop"}` from the browser,
 * after which the result (cancelled) still comes. Query parameters are the task's fields;
 * `label` names the run. The run is stored as it goes (`record`: in-process, who started it),
 * so it shows in the runs list while it runs and the live view links to it.
 *
 * A dangerous task starts only with a confirmation: either `ticket=<id>`, a one-time start
 * ticket the admin UI issues after its form was posted (with CSRF token and the ticked box; the
 * ticket carries the arguments), or `confirm=1` from a scripted client that means it. Without
 * one the socket answers an error and closes with 4003; nothing runs. A browser on another
 * site cannot open this socket (the server checks `Origin`), and a plain link cannot either.
 */
import type { NodeWebSocket } from '@hono/node-ws'
import type { MiddlewareHandler } from 'hono'
import type { WSContext, WSEvents } from 'hono/ws'
import type { Engine } from '../../engine/engine.js'
import { ValidationError } from '../../errors.js'
import { parseTaskArgs } from '../../task/validate.js'
import { actorOf, requirePermission, type ServerContext } from '../caller.js'
import { logHtml, resultHtml } from './html.js'
import { TASK_SOCKET_CLOSE, isStopRequest, taskChannel, type TaskSocketCommand, type TaskSocketMessage } from './protocol.js'
import { redeemTicket } from './tickets.js'
import { jsonText } from '../../json-text.js'
import { resultFinalLine } from '../../engine/execute/final-line.js'

/** Query parameters that are not task fields. */
const RESERVED = new Set(['label', 'category', 'access_token', 'confirm', 'ticket'])

/** What the live task socket needs from `createServer`. */
export interface TaskSocketDeps {
  readonly engine: Engine
  readonly report: (error: Error) => void
  /** Longest a run started here may take, in ms. */
  readonly timeoutMs: number
  /** Keeps the socket, so that closing the server closes it. */
  readonly track: (socket: WSContext) => void
}

/** The route: `tasks:run` is checked on the upgrade request. */
export function taskSocketRoute(upgrade: NodeWebSocket['upgradeWebSocket'], deps: TaskSocketDeps): MiddlewareHandler {
  return upgrade((c) => {
    const who = requirePermission(c as ServerContext, 'tasks:run')
    // Who starts (and may stop) the run, for the audit trail: known at the upgrade, recorded when it happens.
    const actor = actorOf(c as ServerContext, 'admin')
    const audit: LiveAudit = {
      started: (runId, task, args) => void deps.engine.audit.record(actor, { action: 'run.start', target: runId, details: { task, args, live: true } }).catch(deps.report),
      stopped: (runId) => void deps.engine.audit.record(actor, { action: 'run.cancel', target: runId, details: { reason: 'stopped from the live view' } }).catch(deps.report),
    }
    const events = taskSocket(deps.engine, c.req.param('key') ?? '', new URL(c.req.url), deps.report, deps.timeoutMs, who.id, audit)
    return {
      ...events,
      onOpen(event, socket) {
        deps.track(socket)
        events.onOpen?.(event, socket)
      },
    }
  })
}

/** Records the live view's start and stop in the audit trail, as the caller who opened it. */
export interface LiveAudit {
  started(runId: string, task: string, args: unknown): void
  stopped(runId: string): void
}

/**
 * The socket's events for one start of task `key` with the arguments in `url`. The run is stored
 * as it goes (in-process, started by `createdBy` from the live view): the `started` message
 * carries the stored run's id.
 */
export function taskSocket(engine: Engine, key: string, url: URL, report: (error: Error) => void, timeoutMs: number, createdBy: string, audit?: LiveAudit): WSEvents {
  const controller = new AbortController()
  let runId: string | undefined
  const channel = taskChannel(key)
  let open = false
  const send = (ws: WSContext, command: TaskSocketCommand): void => {
    const message: TaskSocketMessage = { channel, ...command }
    if (open) ws.send(jsonText(message))
  }
  return {
    onOpen(_event, ws) {
      open = true
      const task = engine.get(key)
      if (task === undefined) {
        send(ws, { cmd: 'error', param: { message: `unknown task "${key}"`, code: 'ERR_NOT_FOUND' } })
        ws.close(TASK_SOCKET_CLOSE.unknownTask, 'unknown task')
        return
      }
      const ticketId = url.searchParams.get('ticket')
      const ticket = ticketId === null ? undefined : redeemTicket(engine, key, ticketId)
      if (ticketId !== null && ticket === undefined) {
        send(ws, { cmd: 'error', param: { message: 'this start was already used or has expired: start the task again from its form', code: 'ERR_TICKET' } })
        ws.close(TASK_SOCKET_CLOSE.refused, 'start ticket used or expired')
        return
      }
      if (ticket === undefined && task.dangerous !== undefined && !['1', 'true', 'yes'].includes(url.searchParams.get('confirm') ?? '')) {
        send(ws, { cmd: 'error', param: { message: `task "${key}" is dangerous (${task.dangerous}): confirm with confirm=1, or start it from the admin form`, code: 'ERR_CONFIRMATION_REQUIRED' } })
        ws.close(TASK_SOCKET_CLOSE.refused, 'confirmation required')
        return
      }
      let args: Record<string, unknown>
      if (ticket !== undefined) args = { ...ticket.args }
      else {
        const query = new URLSearchParams()
        for (const [name, value] of url.searchParams) if (!RESERVED.has(name)) query.append(name, value)
        try {
          args = parseTaskArgs(task, query)
        } catch (error) {
          const fields = error instanceof ValidationError ? error.fields : []
          send(ws, { cmd: 'error', param: { message: (error as Error).message, code: 'ERR_VALIDATION', fields } })
          ws.close(TASK_SOCKET_CLOSE.invalidArguments, 'invalid arguments')
          return
        }
      }
      const label = ticket !== undefined ? (ticket.label ?? '') : (url.searchParams.get('label') ?? url.searchParams.get('category') ?? '')
      engine
        .run(task, args, {
          ...(label === '' ? {} : { label }),
          signal: controller.signal,
          timeoutMs: Math.min(task.timeoutMs ?? timeoutMs, timeoutMs),
          record: true,
          createdBy,
          startedFrom: 'admin-live',
          onEvent: (event) => {
            if (event.type === 'log') {
              const { entry } = event
              send(ws, { cmd: 'output', param: { msg: entry.message, level: entry.level, seq: entry.seq, time: entry.time, html: logHtml(entry.level, entry.message) } })
            } else if (event.type === 'progress') send(ws, { cmd: 'progress', param: event.progress })
            else if (event.type === 'started') {
              runId = event.runId
              audit?.started(event.runId, key, args)
              send(ws, { cmd: 'started', param: { runId: event.runId, label: event.label } })
            }
          },
        })
        .then((result) => {
          // The log's last line says how the run ended and how long its handler took.
          const final = resultFinalLine(result)
          send(ws, { cmd: 'output', param: { msg: final.message, level: final.level, seq: final.seq, time: final.time, html: logHtml(final.level, final.message) } })
          send(ws, { cmd: 'complete', param: { result, html: resultHtml(result) } })
          send(ws, { cmd: 'close-connection' })
          ws.close(TASK_SOCKET_CLOSE.complete, 'complete')
        })
        .catch((error: unknown) => {
          report(error as Error)
          send(ws, { cmd: 'error', param: { message: 'the run could not be started', code: 'ERR_INTERNAL' } })
          ws.close(TASK_SOCKET_CLOSE.internalError, 'internal error')
        })
    },
    onMessage(event: { readonly data: unknown }) {
      // The one thing the browser says: stop the run (the live view's Stop button). It ends
      // cancelled and its result comes as usual; anything else is ignored.
      if (isStopRequest(event.data) && !controller.signal.aborted) {
        if (runId !== undefined) audit?.stopped(runId)
        controller.abort('stopped from the live view')
      }
    },
    onClose() {
      open = false
      // The watcher left: stop the run rather than let it run unobserved.
      controller.abort('the live view was closed')
    },
  }
}
