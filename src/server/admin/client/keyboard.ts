/**
 * Keyboard shortcuts: `g` then a section's letter (the links carry `data-key="g o"`), `/` to
 * search, `[` and `]` for the pages of a list. Keys typed into a field are the field's; Escape
 * leaves it.
 */
import { $ } from './dom.js'

/** How long `g` waits for its letter, in ms. */
const G_WAIT_MS = 1200

export function initKeyboard(): void {
  let pendingG = false
  document.addEventListener('keydown', (event) => {
    const target = event.target
    if (event.ctrlKey || event.metaKey || event.altKey) return
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || (target instanceof HTMLElement && target.isContentEditable)) {
      if (event.key === 'Escape') target.blur()
      return
    }
    if (pendingG) {
      pendingG = false
      const link = $(`[data-key="g ${CSS.escape(event.key)}"]`)
      if (link !== null) {
        event.preventDefault()
        link.click()
      }
      return
    }
    if (event.key === 'g') {
      pendingG = true
      setTimeout(() => (pendingG = false), G_WAIT_MS)
    } else if (event.key === '/') {
      const search = $<HTMLInputElement>('[data-key="/"]')
      if (search !== null) {
        event.preventDefault()
        search.focus()
        search.select()
      }
    } else if (event.key === '[' || event.key === ']') {
      $(`[data-key="${event.key}"]`)?.click()
    }
  })
}
