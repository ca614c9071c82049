/**
 * The admin UI as a browser without a script sees it, for tests over HTTP: a session that keeps
 * cookies and the form token, the text of a page as a person reads it, and a WebSocket that
 * collects its messages until it closes.
 */
import WebSocket from 'ws'

/** The text of an HTML page (tags out, entities decoded, spaces collapsed), to read it like a user. */
export function text(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim()
}

/** A browser-like session: keeps the CSRF cookie and reads the form token from pages. */
export class Session {
  cookie = ''
  csrf = ''
  constructor(readonly base: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const response = await fetch(`${this.base}${path}`, { headers: { accept: 'text/html', cookie: this.cookie, ...headers }, redirect: 'manual' })
    this.keep(response)
    return response
  }

  /** Fetches a page and remembers its form token. */
  async page(path: string): Promise<string> {
    const response = await this.get(path)
    const html = await response.text()
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1]
    if (token !== undefined) this.csrf = token
    return html
  }

  async post(path: string, form: Record<string, string | readonly string[]>, headers: Record<string, string> = {}): Promise<Response> {
    const body = new URLSearchParams()
    for (const [k, v] of Object.entries(form)) for (const one of typeof v === 'string' ? [v] : v) body.append(k, one)
    const response = await fetch(`${this.base}${path}`, {
      method: 'POST',
      headers: { accept: 'text/html', cookie: this.cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
      redirect: 'manual',
    })
    this.keep(response)
    return response
  }

  private keep(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const [name] = pair!.split('=')
      const others = this.cookie.split('; ').filter((c) => c !== '' && !c.startsWith(`${name}=`))
      this.cookie = [...others, pair].join('; ')
    }
  }
}

/** Opens a WebSocket and collects its JSON messages until it closes. */
export function socket(url: string): Promise<{ messages: Record<string, unknown>[]; code: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    const messages: Record<string, unknown>[] = []
    ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>))
    ws.on('close', (code) => resolve({ messages, code }))
    ws.on('error', reject)
  })
}

