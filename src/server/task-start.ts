/**
 * `GET /admin/task/:key/start?<args>` (WebSocket): starts an in-process run and streams it with
 * the task registry's message protocol:
 *
 *   {channel, cmd: "output", param: {msg, html, level, seq}}   per log line
 *   {channel, cmd: "progress", param: {…progress}}              per progress report
 *   {channel, cmd: "complete", param: {result, html}}           once, with the result
 *   {channel, cmd: "close-connection"}                          then the socket closes
 *
 * Invalid arguments answer `{cmd: "error", param: {message, fields}}` and close. Closing the
 * socket cancels the run. Query parameters are the task's fields; `label` names the run.
 */
import type { WSContext, WSEvents } from 'hono/ws'
import type { Engine } from '../engine/engine.js'
import { ValidationError } from '../errors.js'
import type { RunResult } from '../task/context.js'
import { parseArgs } from '../task/fields.js'
import { escapeHtml } from './html.js'

/** Query parameters that are not task fields. */
const RESERVED = new Set(['label', 'category', 'access_token'])

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
      const query = new URLSearchParams()
      for (const [name, value] of url.searchParams) if (!RESERVED.has(name)) query.append(name, value)
      let args: Record<string, unknown>
      try {
        args = parseArgs(task.fields, query)
      } catch (error) {
        const fields = error instanceof ValidationError ? error.fields : []
        send(ws, { cmd: 'error', param: { message: (error as Error).message, fields } })
        ws.close(4000, 'invalid arguments')
        return
      }
      const label = url.searchParams.get('label') ?? url.searchParams.get('category') ?? 'ad-hoc'
      engine
        .run(task, args, {
          label: label === '' ? 'ad-hoc' : label,
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
