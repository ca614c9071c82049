/**
 * The runs list's selection for bulk actions: select all, the count, selected rows marked, and
 * Compare enabled only with exactly two rows ticked (without the script the server says so).
 */
import { $, $$ } from './dom.js'

export function initRunsSelection(): void {
  const selectAll = $<HTMLInputElement>('#select-all')
  const boxes = (): HTMLInputElement[] => $$<HTMLInputElement>('#runs-table tbody input[type="checkbox"][name="id"]')
  const update = (): void => {
    const chosen = boxes().filter((box) => box.checked)
    const count = $('#selected-count')
    if (count !== null) count.textContent = `${chosen.length} selected`
    for (const box of boxes()) box.closest('tr')?.classList.toggle('selected', box.checked)
    const compare = $<HTMLButtonElement>('#compare-selected')
    if (compare !== null) {
      compare.disabled = chosen.length !== 2
      compare.title = chosen.length === 2 ? 'Compare the two ticked runs side by side' : 'Tick exactly two runs to compare them'
    }
  }
  selectAll?.addEventListener('change', () => {
    for (const box of boxes()) box.checked = selectAll.checked
    update()
  })
  for (const box of boxes()) box.addEventListener('change', update)
  update()
}
