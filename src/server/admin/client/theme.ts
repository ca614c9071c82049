/**
 * The theme switch: light or dark, remembered in `localStorage`; without a choice the page
 * follows the system's.
 */
import { $ } from './dom.js'

const KEY = 'te-theme'

export function initTheme(): void {
  const root = document.documentElement
  const stored = localStorage.getItem(KEY)
  if (stored === 'dark' || stored === 'light') root.dataset.theme = stored
  $('#theme-toggle')?.addEventListener('click', () => {
    const dark = root.dataset.theme === 'dark' || (root.dataset.theme === undefined && matchMedia('(prefers-color-scheme: dark)').matches)
    const next = dark ? 'light' : 'dark'
    root.dataset.theme = next
    localStorage.setItem(KEY, next)
  })
}
