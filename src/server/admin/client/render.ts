/**
 * Drawing what the server sends into the page, the way the server-rendered views draw it
 * (`ui.tsx`): status pills, JSON trees, log lines, progress. The formatting itself is shared
 * with the views (`../shared/format.ts`).
 */
import type { RunState } from '../../../store/types.js'
import type { LogEntry, Progress } from '../../../task/context.js'
import type { Jsonified } from '../../jsonified.js'
import { clockTime, jsonText, jsonTree, progressCaption, type JsonTree } from '../shared/format.js'
import { $, $$, el } from './dom.js'

/** The most lines a log terminal keeps; older ones are dropped from the page. */
const MAX_LINES = 10_000

/** `<span class="status status-failed" data-status="failed">failed</span>`, as `StatusPill`. */
export function statusPill(status: RunState): HTMLSpanElement {
  const pill = el('span', `status status-${status}`, status)
  pill.dataset.status = status
  return pill
}

/** A {@link JsonTree} as DOM nodes, as `JsonView` draws it on the server. */
export function jsonElement(node: JsonTree): HTMLElement {
  const key = (): HTMLElement[] => (node.key === undefined ? [] : [el('span', 'k', node.key)])
  if (node.kind === 'row') {
    const row = el('div', 'row')
    row.append(...key(), el('span', node.class, node.text))
    return row
  }
  const details = el('details')
  details.open = node.expanded
  const summary = el('summary')
  summary.append(...key(), `${node.open} `, el('span', 'faint', node.size))
  details.append(summary, ...node.children.map(jsonElement), el('div', 'row', node.close))
  return details
}

/** Fills an empty JSON view (`JsonShell` id): the raw text to copy, and the tree. */
export function fillJson(id: string, value: unknown): void {
  const text = jsonText(value)
  const pre = document.getElementById(id)
  if (pre !== null) pre.textContent = text
  $(`[data-json-tree="${id}"]`)?.replaceChildren(jsonElement(jsonTree(JSON.parse(text))))
}

/**
 * Appends a log line to a terminal (`LogTerminal`), unless the terminal has it already (its
 * `data-last-seq`); keeps the line count and, while "follow" is ticked, the newest line in view.
 */
export function appendLog(terminal: HTMLElement, entry: Jsonified<LogEntry>): boolean {
  const last = Number(terminal.dataset.lastSeq ?? '0')
  if (entry.seq <= last) return false
  terminal.dataset.lastSeq = String(entry.seq)
  const line = el('div', 'line')
  line.dataset.seq = String(entry.seq)
  const time = el('span', 't', clockTime(entry.time))
  time.title = entry.time
  line.append(time, el('span', `lv lv-${entry.level}`, entry.level), el('span', 'msg', entry.message))
  terminal.append(line)
  while (terminal.childElementCount > MAX_LINES) terminal.firstElementChild?.remove()
  const counter = terminal.parentElement?.querySelector('[data-log-count]')
  if (counter !== null && counter !== undefined) {
    counter.textContent = String(terminal.childElementCount)
    // The word after the count: "1 line", "2 lines".
    if (counter.nextSibling !== null) counter.nextSibling.textContent = terminal.childElementCount === 1 ? ' line' : ' lines'
  }
  const follow = $<HTMLInputElement>(`[data-follow="${terminal.id}"]`)
  if (follow === null || follow.checked) terminal.scrollTop = terminal.scrollHeight
  return true
}

/** Shows a progress report in a `ProgressBar` (hidden until the first report). */
export function setProgress(container: HTMLElement | null, progress: Jsonified<Progress> | null | undefined): void {
  if (container === null || progress === null || progress === undefined) return
  container.hidden = false
  if (container.parentElement !== null) for (const note of $$('[data-no-progress]', container.parentElement)) note.hidden = true
  const bar = $<HTMLProgressElement>('progress', container)
  if (bar !== null && typeof progress.percent === 'number') {
    bar.value = Math.round(progress.percent)
    bar.textContent = `${Math.round(progress.percent)}%`
  }
  const caption = progressCaption(progress)
  for (const part of ['percent', 'steps', 'message'] as const) {
    const node = $(`[data-part="${part}"]`, container)
    if (node !== null) node.textContent = caption[part]
  }
}

/** Log terminals open at their newest line. */
export function scrollTerminalsToEnd(): void {
  for (const terminal of $$('.terminal')) terminal.scrollTop = terminal.scrollHeight
}
