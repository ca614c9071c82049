/**
 * Small DOM helpers of the admin UI's script. Everything from the server is inserted as text
 * (`textContent`), never as HTML.
 */

/** The first element matching `selector` under `root`. */
export function $<E extends Element = HTMLElement>(selector: string, root: ParentNode = document): E | null {
  return root.querySelector<E>(selector)
}

/** Every element matching `selector` under `root`. */
export function $$<E extends Element = HTMLElement>(selector: string, root: ParentNode = document): E[] {
  return Array.from(root.querySelectorAll<E>(selector))
}

/** A new element, with a class and text when given. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  if (className !== undefined && className !== '') node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

/** The content of `<meta name>` (the layout writes `te-base` and `te-admin`). */
export function meta(name: string): string {
  return $<HTMLMetaElement>(`meta[name="${name}"]`)?.getAttribute('content') ?? ''
}

/** A WebSocket URL on this page's host: `ws:` or `wss:` as the page's own scheme. */
export function socketUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`
}

/** Reads a JSON answer; `undefined` when the answer is not OK. */
export async function fetchJson<T>(url: string | URL): Promise<T | undefined> {
  const response = await fetch(url, { headers: { accept: 'application/json' } })
  if (!response.ok) return undefined
  return (await response.json()) as T
}
