/**
 * The tasks page's search filters the task cards as you type (the form searches on the server
 * without the script); a category with no card left is hidden.
 */
import { $, $$ } from './dom.js'

export function initTaskSearch(): void {
  const input = $<HTMLInputElement>('[data-filter-cards]')
  if (input === null) return
  input.addEventListener('input', () => {
    const q = input.value.trim().toLowerCase()
    for (const card of $$(input.dataset.filterCards ?? '')) card.hidden = q !== '' && !(card.dataset.search ?? '').includes(q)
    for (const section of $$('.task-groups > section')) section.hidden = $$('.task-card', section).every((card) => card.hidden)
  })
}
