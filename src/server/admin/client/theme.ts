/**
 * The theme switch: light or dark, remembered in `localStorage`; without a choice the page
 * follows the system's. A page framed by another site (the embeds) may be denied storage: it then
 * follows the system, or the `data-theme` the server wrote (`?theme=`), and forgets switches.
 */
import { $ } from './dom.js'

const KEY = 'te-theme'

/** `localStorage`, or `undefined` where the browser denies it (a third-party frame). */
function storage(): Storage | undefined {
  try {
    return localStorage
  } catch {
    return undefined
  }
}

export function initTheme(): void {
  const root = document.documentElement
  const stored = storage()?.getItem(KEY)
  // A page drawn in a fixed theme (an embed's `?theme=`, matching its host app) keeps it.
  if ((stored === 'dark' || stored === 'light') && root.dataset.themeFixed === undefined) root.dataset.theme = stored
  $('#theme-toggle')?.addEventListener('click', () => {
    const dark = root.dataset.theme === 'dark' || (root.dataset.theme === undefined && matchMedia('(prefers-color-scheme: dark)').matches)
    const next = dark ? 'light' : 'dark'
    root.dataset.theme = next
    storage()?.setItem(KEY, next)
  })
}
