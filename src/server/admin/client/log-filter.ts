/**
 * The run page's log filter (`#log-filter`, drawn hidden by `run-parts.tsx`): shows only lines
 * at or above a level, of one attempt, or containing a search text, over the lines the server
 * rendered and those the stream appends live. Without the script the filter stays hidden and
 * every line shows.
 */
import { $, $$ } from './dom.js'

/** Levels from least to most severe. */
const LEVELS = ['debug', 'info', 'warn', 'error'] as const

export function initLogFilter(): void {
  const form = $<HTMLFormElement>('#log-filter')
  const terminal = form === null ? null : document.getElementById(form.dataset.for ?? '')
  if (form === null || terminal === null) return
  const level = $<HTMLSelectElement>('[data-filter="level"]', form)
  const attempt = $<HTMLSelectElement>('[data-filter="attempt"]', form)
  const search = $<HTMLInputElement>('[data-filter="q"]', form)
  const shown = $('[data-part="shown"]', form)
  // One attempt only: nothing to choose between.
  if (attempt !== null && attempt.options.length <= 2) attempt.closest('label')?.setAttribute('hidden', '')

  const matches = (line: HTMLElement): boolean => {
    const min = LEVELS.indexOf((level?.value ?? 'debug') as (typeof LEVELS)[number])
    const own = LEVELS.indexOf((line.dataset.level ?? '') as (typeof LEVELS)[number])
    if (own !== -1 && own < min) return false
    if (attempt !== null && attempt.value !== '' && line.dataset.attempt !== attempt.value) return false
    const q = (search?.value ?? '').trim().toLowerCase()
    return q === '' || ($('.msg', line)?.textContent ?? '').toLowerCase().includes(q)
  }
  const apply = (lines: readonly HTMLElement[]): void => {
    for (const line of lines) line.hidden = !matches(line)
    const all = $$('.line', terminal)
    const visible = all.filter((line) => !line.hidden).length
    if (shown !== null) shown.textContent = visible === all.length ? '' : `${visible} of ${all.length} shown`
  }
  // Lines the stream appends carry no attempt or level attributes: they are of the current attempt.
  new MutationObserver((records) => {
    const added: HTMLElement[] = []
    for (const record of records) {
      for (const node of Array.from(record.addedNodes)) {
        if (!(node instanceof HTMLElement) || !node.classList.contains('line')) continue
        node.dataset.attempt ??= terminal.dataset.attempt ?? '1'
        node.dataset.level ??= $('.lv', node)?.textContent ?? ''
        added.push(node)
      }
    }
    if (added.length > 0) apply(added)
  }).observe(terminal, { childList: true })

  form.addEventListener('submit', (event) => event.preventDefault())
  for (const control of [level, attempt, search]) control?.addEventListener('input', () => apply($$('.line', terminal)))
  form.hidden = false
  apply($$('.line', terminal))
}
