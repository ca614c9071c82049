/**
 * The live task view (`#live-run`): opens the live task socket with the page's one-time start
 * ticket (`../../task-socket/protocol.ts`) and streams the run's log lines and progress, then
 * its result, drawn like the result page. The run lives in the server process and is cancelled
 * with its socket, so a lost connection is final: the page says the run was interrupted.
 */
import type { RunError } from '../../../task/context.js'
import type { Jsonified } from '../../jsonified.js'
import type { TaskSocketMessage } from '../../task-socket/protocol.js'
import { formatDuration, relative } from '../shared/format.js'
import { $, el, socketUrl } from './dom.js'
import { setLive } from './live-state.js'
import { appendLog, fillJson, setProgress, statusPill } from './render.js'

type Message = Jsonified<TaskSocketMessage>
type Complete = Extract<Message, { cmd: 'complete' }>

export function runLiveTask(): void {
  const live = $('#live-run')
  const terminal = $('#live-log')
  const first = $('#live-status')
  if (live === null || terminal === null || first === null) return
  let status = first
  /** The heading's pill says `text` in the colours of `state`. */
  const setStatus = (text: string, state: Parameters<typeof statusPill>[0]): void => {
    const pill = statusPill(state)
    pill.textContent = text
    pill.id = 'live-status'
    status.replaceWith(pill)
    status = pill
  }
  const socket = new WebSocket(socketUrl(live.dataset.socket ?? ''))
  let done = false
  const stop = $<HTMLButtonElement>('#live-stop')
  /** Whether this page asked the run to stop (then its cancelled end is no error). */
  let stopping = false
  stop?.addEventListener('click', () => {
    if (done || socket.readyState !== WebSocket.OPEN) return
    stopping = true
    socket.send(JSON.stringify({ cmd: 'stop' }))
    stop.disabled = true
    stop.textContent = 'Stopping…'
    setStatus('stopping', 'running')
  })
  socket.addEventListener('open', () => {
    setLive('live', 'live')
    if (stop !== null) stop.hidden = false
  })
  socket.addEventListener('message', (event: MessageEvent<string>) => {
    const message = JSON.parse(event.data) as Message
    switch (message.cmd) {
      case 'started':
        status.textContent = 'running'
        live.dataset.runId = message.param.runId
        linkRun(message.param.runId)
        return
      case 'output':
        appendLog(terminal, { seq: message.param.seq, level: message.param.level, message: message.param.msg, time: message.param.time })
        return
      case 'progress':
        setProgress($('#live-progress'), message.param)
        return
      case 'complete':
        done = true
        if (stop !== null) stop.hidden = true
        showResult(message.param.result, terminal, setStatus, stopping && message.param.result.status === 'cancelled')
        return
      case 'error':
        done = true
        if (stop !== null) stop.hidden = true
        setStatus(message.param.code === 'ERR_TICKET' || message.param.code === 'ERR_CONFIRMATION_REQUIRED' ? 'not started' : 'failed', 'failed')
        show('#live-result')
        hide('#live-result .grid')
        showError({ message: message.param.message, code: message.param.code })
        setLive('off', 'not started')
        return
      case 'close-connection':
        return
    }
  })
  socket.addEventListener('close', () => {
    if (stop !== null) stop.hidden = true
    if (done) return
    // Nothing to reconnect to: say so plainly instead of pretending to wait.
    setLive('stale', 'disconnected')
    setStatus('interrupted', 'cancelled')
    show('#live-interrupted')
    show('#live-actions')
  })
}

/** Points the link to the run's stored page at the run, once its id is known (shown with the actions when the run ends). */
function linkRun(id: string): void {
  const link = $<HTMLAnchorElement>('#live-stored')
  if (link === null || id === '') return
  link.href = `${link.dataset.runs ?? ''}/${encodeURIComponent(id)}`
  link.hidden = false
}

/** The result, as the result page shows it; a run stopped from this page is told neutrally, not as an error. */
function showResult(result: Complete['param']['result'], terminal: HTMLElement, setStatus: (text: string, state: typeof result.status) => void, stopped: boolean): void {
  setStatus(stopped ? 'stopped' : result.status, result.status)
  if (result.progress !== undefined) setProgress($('#live-progress'), result.progress)
  terminal.classList.add('terminal-done')
  const box = show('#live-result')
  const part = (name: string, ...nodes: (Node | string)[]): void => $(`[data-part="${name}"]`, box ?? document)?.replaceChildren(...nodes)
  part('status', statusPill(result.status))
  part('id', el('span', '', result.id))
  part('label', el('span', '', result.label))
  const started = el('time', '', relative(new Date(result.startedAt)))
  started.dateTime = result.startedAt
  started.dataset.relative = ''
  started.title = result.startedAt
  part('started', started, el('span', 'faint', ` ${result.startedAt}`))
  part('duration', el('span', '', formatDuration(result.durationMs)))
  part('tags', ...(result.tags.length === 0 ? [el('span', 'faint', 'none')] : result.tags.map((tag) => el('span', 'tag', tag))))
  if (result.data === undefined && result.status !== 'succeeded') {
    $('[data-json-tree="live-data"]')?.closest('.json')?.replaceWith(el('p', 'empty', `No result: the run ${result.status}.`))
  } else fillJson('live-data', result.data ?? null)
  if (stopped) show('#live-stopped')
  else if (result.error !== undefined) showError(result.error)
  show('#live-actions')
  const sub = $('#live-sub')
  if (sub !== null) sub.textContent = `The run ${stopped ? 'was stopped' : result.status} after ${formatDuration(result.durationMs)}. It executed in this server process and is stored.`
  setLive('off', 'finished')
}

/** The error card, as `ErrorCard` draws it. */
function showError(error: Pick<Jsonified<RunError>, 'message'> & Partial<Pick<Jsonified<RunError>, 'code' | 'name' | 'stack'>>): void {
  const card = show('#live-error')
  if (card === null) return
  const part = (name: string): HTMLElement | null => $(`[data-part="${name}"]`, card)
  part('message')!.textContent = error.message
  part('code')!.textContent = error.code ?? ''
  const stack = part('stack')
  if (stack !== null) stack.hidden = error.stack === undefined || error.stack === ''
  if (error.stack !== undefined && error.stack !== '') {
    part('name')!.textContent = error.name ?? 'Error'
    part('stack-text')!.textContent = error.stack
  }
}

function show(selector: string): HTMLElement | null {
  const node = $(selector)
  if (node !== null) node.hidden = false
  return node
}

function hide(selector: string): void {
  const node = $(selector)
  if (node !== null) node.hidden = true
}
