/**
 * The notices a page shows after an action sent the browser back to it (`?notice=<code>` and
 * the notice's own parameters), and the redirects that carry them: only ever to paths of the
 * admin UI.
 */
import type { Context } from 'hono'
import type { Notice } from './layout.js'

const NOTICES: Readonly<Record<string, (q: URLSearchParams) => Notice>> = {
  enqueued: () => ({ kind: 'ok', text: 'Run enqueued.' }),
  cancelled: () => ({ kind: 'ok', text: 'Cancel requested: a pending run is cancelled at once, a running one when its handler stops.' }),
  retried: () => ({ kind: 'ok', text: 'Run retried: pending again with a fresh attempt budget.' }),
  deleted: () => ({ kind: 'ok', text: 'Run deleted.' }),
  conflict: (q) => ({ kind: 'warn', text: q.get('message') ?? 'That change is not possible in the run\'s current state.' }),
  'schedule-on': (q) => ({ kind: 'ok', text: `Schedule "${q.get('name') ?? ''}" enabled for every process.` }),
  'schedule-off': (q) => ({ kind: 'ok', text: `Schedule "${q.get('name') ?? ''}" disabled for every process: no more ticks until it is enabled.` }),
  triggered: () => ({ kind: 'ok', text: 'Schedule triggered: this run was enqueued now.' }),
  'flow-paused': (q) => ({ kind: 'ok', text: `${q.get('name') ?? ''} paused on every worker: running runs finish, pending ones wait.` }),
  'flow-resumed': (q) => ({ kind: 'ok', text: `${q.get('name') ?? ''} resumed on every worker.` }),
  'flow-saved': (q) => ({ kind: 'ok', text: `Limits of ${q.get('name') ?? ''} saved: every worker applies them within a heartbeat.` }),
  'settings-saved': () => ({ kind: 'ok', text: 'Settings saved. Every process on the store uses them from now on.' }),
  'task-removed': (q) => ({ kind: 'ok', text: `Task "${q.get('key') ?? ''}" removed from this server.` }),
  'none-selected': () => ({ kind: 'warn', text: 'Select runs first.' }),
  'compare-two': (q) => ({ kind: 'warn', text: `Tick exactly two runs to compare them (${q.get('done') ?? 0} were ticked).` }),
  'worker-quiet': (q) => ({ kind: 'ok', text: `Worker ${q.get('name') ?? ''} quieted: it claims no more runs and finishes those it holds (within a heartbeat).` }),
  'worker-resume': (q) => ({ kind: 'ok', text: `Worker ${q.get('name') ?? ''} resumed: it claims runs again (within a heartbeat).` }),
  'worker-stop': (q) => ({ kind: 'ok', text: `Stop requested for worker ${q.get('name') ?? ''}: it stops gracefully within a heartbeat, its running handlers given their grace period.` }),
  'user-added': (q) => ({ kind: 'ok', text: `User "${q.get('name') ?? ''}" added.` }),
  'user-changed': (q) => ({ kind: 'ok', text: `User "${q.get('name') ?? ''}" changed; it takes effect on their next request.` }),
  'token-revoked': (q) => ({ kind: 'ok', text: `Token "${q.get('name') ?? ''}" revoked: it stopped working everywhere.` }),
  'sessions-ended': (q) => ({ kind: 'ok', text: `Sessions of "${q.get('name') ?? ''}" ended: ${q.get('done') ?? 0}.` }),
  'user-error': (q) => ({ kind: 'bad', text: q.get('message') ?? 'That change was refused.' }),
  bulk: (q) => ({ kind: q.get('skipped') === '0' ? 'ok' : 'warn', text: `${q.get('action') ?? ''}: ${q.get('done') ?? 0} done, ${q.get('skipped') ?? 0} skipped (not in a state that allows it).` }),
}

/** Parameters a notice adds to the page it sends you back to (dropped before adding a new one). */
const NOTICE_PARAMS = ['notice', 'name', 'message', 'key', 'action', 'done', 'skipped']

/** The notice the request's URL asks for, if any. */
export function noticeOf(c: Context): Notice | undefined {
  const url = new URL(c.req.url)
  const code = url.searchParams.get('notice')
  return code === null ? undefined : NOTICES[code]?.(url.searchParams)
}

/** `path` with the notice `code` (and its parameters) to show there. */
export function withNotice(path: string, code: string, extra: Record<string, string> = {}): string {
  const url = new URL(path, 'http://x')
  url.searchParams.set('notice', code)
  for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v)
  return `${url.pathname}${url.search}`
}

/**
 * Where a form wants to go back to: its `back` field, when that is a path of the admin UI
 * (so no redirect leaves it), else `fallback`. A field rather than the Referer header, which
 * the server's own `referrer-policy: no-referrer` keeps browsers from sending.
 */
export function backTo(body: Readonly<Record<string, unknown>>, admin: string, fallback: string): string {
  const back = body.back
  if (typeof back !== 'string' || !back.startsWith('/') || back.startsWith('//') || back.includes('\\')) return fallback
  let url: URL
  try {
    url = new URL(back, 'http://x')
  } catch {
    return fallback
  }
  if (url.host !== 'x' || !(url.pathname === admin || url.pathname.startsWith(`${admin}/`))) return fallback
  for (const name of NOTICE_PARAMS) url.searchParams.delete(name)
  return `${url.pathname}${url.search}`
}

/** Only same-site paths under the admin UI; anything else goes to the admin home. */
export function safeNext(next: string | undefined, admin: string): string {
  if (next === undefined || !next.startsWith('/') || next.startsWith('//') || !next.startsWith(admin === '' ? '/' : admin)) return admin === '' ? '/' : admin
  return next
}
