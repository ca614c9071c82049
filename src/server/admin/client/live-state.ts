/**
 * The header's live indicator (`#live-state`): whether live updates are coming. On the live
 * task page it shows the live view's own socket: that run dies with it, so its "disconnected"
 * is the page's final word, not the stream's next reconnect attempt.
 */
import { $ } from './dom.js'

/** `live`, `stale` (reconnecting, or disconnected for good on the live task page) or `off`. */
export type LiveState = 'live' | 'stale' | 'off'

export function setLive(state: LiveState, text: string): void {
  const indicator = $('#live-state')
  if (indicator === null) return
  indicator.dataset.state = state
  indicator.textContent = text
}

/** Whether the live task view owns the indicator on this page. */
export function liveViewOwnsIndicator(): boolean {
  return $('#live-run') !== null
}
