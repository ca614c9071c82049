/**
 * Escaping for the few HTML fragments the server builds outside JSX (the seed protocol's
 * `html` fields). Everything user-controlled goes through `escapeHtml`.
 */
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}
