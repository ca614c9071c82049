/**
 * The run page's Result section, live (`run-result.tsx` renders it): a partial result set by the
 * handler (`ctx.setResult`) shows as it arrives, from a `result` event or the stored run.
 */
import { jsonText, jsonTree } from '../shared/format.js'
import { $, el } from './dom.js'
import { jsonElement } from './render.js'

/** Shows `data` as the run's partial result so far; does nothing on a page without a live Result section. */
export function showPartialResult(data: unknown): void {
  const section = $('#run-result')
  if (section === null || section.dataset.live === undefined || data === null || data === undefined) return
  const pre = document.getElementById('run-data')
  const box = pre?.closest('.json')
  if (pre === null || box === null || box === undefined) return
  const text = jsonText(data)
  pre.textContent = text
  box.lastElementChild?.replaceWith(jsonElement(jsonTree(JSON.parse(text))))
  const hidden = $('[data-result-box]', section)
  if (hidden !== null) hidden.hidden = false
  section.dataset.partial = ''
  const note = $('[data-result-note]', section)
  if (note === null) section.prepend(el('p', 'faint', 'Partial result so far.'))
  else {
    note.className = 'faint'
    note.textContent = 'Partial result so far.'
  }
}
