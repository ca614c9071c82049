/**
 * `GET /admin/task/:key/start?<args>` (WebSocket): starts an in-process run and streams it with
 * the task registry's message protocol:
 *
 *   {channel, cmd: "output", param: {msg, html, level, seq}}   per log line
 *   {channel, cmd: "progress", param: {…progress}}              per progress report
 *   {channel, cmd: "complete", param: {result, html}}           once, with the result
 *   {channel, cmd: "close-connection"}                          then the socket closes
 *
 * Invalid arguments answer `{cmd: "error", param: {message, fields}}` and close (4000). Closing
 * the socket cancels the run. Query parameters are the task's fields; `label` names the run.
 *
 * A dangerous task starts only with a confirmation: either `ticket=<id>`, a one-time start
 * ticket the admin UI issues after its form was posted (with CSRF token and the ticked box; the
 * ticket carries the arguments), or `confirm=1` from a scripted client that means it. Without
 * one the socket answers an error and closes with 4003; nothing runs. A browser on another
 * site cannot open this socket (the server checks `Origin`), and a plain link cannot either.
 */
import { randomUUID } from 'node:crypto'
import type { WSContext, WSEvents } from 'hono/ws'
import type { Engine } from '../engine/engine.js'
import { ValidationError } from '../errors.js'
import type { RunResult } from '../task/context.js'
import { parseArgs } from '../task/fields.js'
import { escapeHtml } from './html.js'

/** Query parameters that are not task fields. */
const RESERVED = new Set(['label', 'category', 'access_token', 'confirm', 'ticket'])

/** How long a start ticket may wait for its socket. The live page opens it at once. */
const TICKET_TTL_MS = 2 * 60_000

/** What a start ticket stands for: one confirmed start of a task with these arguments. */
interface StartTicket {
  readonly key: string
  readonly args: Readonly<Record<string, unknown>>
  readonly label: string | undefined
  readonly expiresAt: number
}

// Per engine, so two servers in one process never honour each other's tickets.
const tickets = new WeakMap<Engine, Map<string, StartTicket>>()

/**
 * Issues a one-time ticket that lets the live view's socket start `key` with `args` (already
 * validated and confirmed by the caller). It expires after two minutes or its first use.
 */
export function issueStartTicket(engine: Engine, key: string, args: Readonly<Record<string, unknown>>, label: string | undefined, now = Date.now()): string {
  let issued = tickets.get(engine)
  if (issued === undefined) tickets.set(engine, (issued = new Map<string, StartTicket>()))
  for (const [id, ticket] of issued) if (ticket.expiresAt <= now) issued.delete(id)
  const id = randomUUID()
  issued.set(id, { key, args, label, expiresAt: now + TICKET_TTL_MS })
  return id
}

/** Takes a ticket for `key` out of circulation; `undefined` when unknown, used, expired or for another task. */
function redeemTicket(engine: Engine, key: string, id: string, now = Date.now()): StartTicket | undefined {
  const issued = tickets.get(engine)
  const ticket = issued?.get(id)
  if (ticket === undefined) return undefined
  issued!.delete(id)
  return ticket.key === key && ticket.expiresAt > now ? ticket : undefined
}

export function taskStartSocket(engine: Engine, key: string, url: URL, report: (error: Error) => void, timeoutMs: number): WSEvents {
  const controller = new AbortController()
  const channel = `task:${key}`
  let open = false
  const send = (ws: WSContext, message: Record<string, unknown>): void => {
    if (open) ws.send(JSON.stringify({ channel, ...message }))
  }
  return {
    onOpen(_event, ws) {
      open = true
      const task = engine.get(key)
      if (task === undefined) {
        send(ws, { cmd: 'error', param: { message: `unknown task "${key}"` } })
        ws.close(4004, 'unknown task')
        return
      }
      const ticketId = url.searchParams.get('ticket')
      const ticket = ticketId === null ? undefined : redeemTicket(engine, key, ticketId)
      if (ticketId !== null && ticket === undefined) {
        send(ws, { cmd: 'error', param: { message: 'this start was already used or has expired: start the task again from its form', code: 'ERR_TICKET' } })
        ws.close(4003, 'start ticket used or expired')
        return
      }
      if (ticket === undefined && task.dangerous !== undefined && !['1', 'true', 'yes'].includes(url.searchParams.get('confirm') ?? '')) {
        send(ws, { cmd: 'error', param: { message: `task "${key}" is dangerous (${task.dangerous}): confirm with confirm=1, or start it from the admin form`, code: 'ERR_CONFIRMATION_REQUIRED' } })
        ws.close(4003, 'confirmation required')
        return
      }
      let args: Record<string, unknown>
      if (ticket !== undefined) args = { ...ticket.args }
      else {
        const query = new URLSearchParams()
        for (const [name, value] of url.searchParams) if (!RESERVED.has(name)) query.append(name, value)
        try {
          args = parseArgs(task.fields, query)
        } catch (error) {
          const fields = error instanceof ValidationError ? error.fields : []
          send(ws, { cmd: 'error', param: { message: (error as Error).message, fields } })
          ws.close(4000, 'invalid arguments')
          return
        }
      }
      const label = ticket !== undefined ? (ticket.label ?? '') : (url.searchParams.get('label') ?? url.searchParams.get('category') ?? '')
      engine
        .run(task, args, {
          ...(label === '' ? {} : { label }),
          signal: controller.signal,
          timeoutMs: Math.min(task.timeoutMs ?? timeoutMs, timeoutMs),
          onEvent: (event) => {
            if (event.type === 'log') {
              const { entry } = event
              send(ws, { cmd: 'output', param: { msg: entry.message, level: entry.level, seq: entry.seq, time: entry.time, html: logHtml(entry.level, entry.message) } })
            } else if (event.type === 'progress') send(ws, { cmd: 'progress', param: event.progress })
            else if (event.type === 'started') send(ws, { cmd: 'started', param: { runId: event.runId, label: event.label } })
          },
        })
        .then((result) => {
          send(ws, { cmd: 'complete', param: { result, html: resultHtml(result) } })
          send(ws, { cmd: 'close-connection' })
          ws.close(1000, 'complete')
        })
        .catch((error: unknown) => {
          report(error as Error)
          send(ws, { cmd: 'error', param: { message: 'the run could not be started' } })
          ws.close(1011, 'internal error')
        })
    },
    onClose() {
      open = false
      // The watcher left: stop the run rather than let it run unobserved.
      controller.abort('the live view was closed')
    },
  }
}

function logHtml(level: string, message: string): string {
  return `<div class="log log-${escapeHtml(level)}"><span class="level">${escapeHtml(level)}</span> ${escapeHtml(message)}</div>`
}

function resultHtml(result: RunResult): string {
  const error = result.error === undefined ? '' : `<div class="error">${escapeHtml(result.error.message)}</div>`
  return `<div class="result result-${result.status}"><strong>${escapeHtml(result.status)}</strong> in ${result.durationMs} ms${error}</div>`
}
