/**
 * The admin UI over HTTP and WebSocket without a browser: GETs that change nothing, CSRF, the
 * live view's start socket and its confirmation, redirects, formats and the content of pages.
 * One real server on a real socket (so `Host` and `Origin` are what a browser sends).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { createEngine, defineSchedule, defineTask, type Engine, type RunEvent } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'

/** Every start of the dangerous task, with its arguments: it must only run when confirmed. */
const drops: unknown[] = []
const danger = defineTask({
  key: 'danger',
  title: 'Drop Everything',
  dangerous: 'Deletes all the things',
  fields: [{ key: 'table', type: 'string', default: 'all' }],
  run(ctx) {
    drops.push(ctx.args)
    return `dropped ${ctx.args.table}`
  },
})
const greet = defineTask({
  key: 'greet',
  title: 'Greet',
  fields: [{ key: 'name', type: 'string', default: 'world' }],
  run: (ctx) => ({ greeting: `Hello, ${ctx.args.name}!` }),
})

/** A browser-like session: keeps the CSRF cookie and reads the form token from pages. */
class Session {
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
function socket(url: string): Promise<{ messages: Record<string, unknown>[]; code: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    const messages: Record<string, unknown>[] = []
    ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>))
    ws.on('close', (code) => resolve({ messages, code }))
    ws.on('error', reject)
  })
}

describe('admin UI over HTTP', () => {
  let dir: string
  let engine: Engine
  let server: RunningServer
  let session: Session
  const started: RunEvent[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'taskengine-admin-http-'))
    engine = createEngine({
      tasks: [danger, greet],
      schedules: [defineSchedule({ id: 'nightly', name: 'Nightly', cron: '0 3 * * *', task: 'greet', args: { name: 'night' } })],
      store: sqliteStore(join(dir, 'admin.db')),
      pollIntervalMs: 20,
    })
    engine.subscribe((event) => {
      if (event.type === 'started') started.push(event)
    })
    server = await serve(engine, { port: 0, onError: () => undefined })
    session = new Session(server.url)
    await session.page('/admin')
  })

  afterAll(async () => {
    await server?.close()
    await engine?.close({ graceMs: 0 })
    rmSync(dir, { recursive: true, force: true })
  })

  describe('a link never runs a task', () => {
    it('GET /run (live or not) shows a confirmation form and starts nothing', async () => {
      const before = started.length
      const live = await session.get('/admin/task/danger/run?async=true&table=users&label=night')
      expect(live.status).toBe(200)
      const html = await live.text()
      expect(html).toContain('action="/admin/task/danger/start"')
      expect(html).toContain('name="te:confirm"')
      expect(html).toContain('<input type="hidden" name="table" value="users"/>')
      expect(html).toContain('<input type="hidden" name="te:label" value="night"/>')
      expect(html).not.toContain('data-socket')
      const sync = await (await session.get('/admin/task/greet/run?name=link')).text()
      expect(sync).toContain('action="/admin/task/greet/run"')
      expect(sync).not.toContain('name="te:confirm"')
      expect(started.length).toBe(before)
      expect(drops).toEqual([])
    })

    it('the task form\'s POST to /start shows the live view with a one-time ticket, and only after confirmation', async () => {
      await session.page('/admin/task/danger')
      const unconfirmed = await session.post('/admin/task/danger/start', { _csrf: session.csrf, table: 'users' })
      expect(unconfirmed.status).toBe(400)
      expect(await unconfirmed.text()).toContain('Tick the box to confirm this dangerous task.')
      const confirmed = await session.post('/admin/task/danger/start', { _csrf: session.csrf, table: 'users', 'te:confirm': 'yes' })
      expect(confirmed.status).toBe(200)
      expect(await confirmed.text()).toMatch(/data-socket="\/admin\/task\/danger\/start\?ticket=[0-9a-f-]{36}"/)
      // The page opens the socket; the POST alone ran nothing.
      expect(drops).toEqual([])
    })

    it('refuses a POST without the form token, or from another origin (403), and starts nothing', async () => {
      await session.page('/admin/task/greet')
      const before = started.length
      const noToken = await session.post('/admin/task/greet/run', { name: 'x' })
      expect(noToken.status).toBe(403)
      expect(await noToken.text()).toContain('missing or stale form token')
      const foreign = await session.post('/admin/task/greet/run', { _csrf: session.csrf, name: 'x' }, { origin: 'https://evil.example' })
      expect(foreign.status).toBe(403)
      expect(await foreign.text()).toContain('cross-site request refused')
      const wrongToken = await session.post('/admin/task/greet/run', { _csrf: '00000000-0000-0000-0000-000000000000', name: 'x' })
      expect(wrongToken.status).toBe(403)
      expect(started.length).toBe(before)
      const ok = await session.post('/admin/task/greet/run', { _csrf: session.csrf, name: 'x' }, { origin: server.url })
      expect(ok.status).toBe(200)
      expect(await ok.text()).toContain('Hello, x!')
    })
  })

  describe('going back after a schedule action', () => {
    const toggle = async (back: string | undefined, enabled: boolean): Promise<string> => {
      await session.page('/admin/schedules')
      const response = await session.post('/admin/schedules/nightly/toggle', { _csrf: session.csrf, enabled: String(enabled), ...(back === undefined ? {} : { back }) })
      expect(response.status).toBe(303)
      return response.headers.get('location')!
    }

    it('returns to the page named by the form\'s back field, with a fresh notice', async () => {
      expect(await toggle('/admin/schedules/nightly', false)).toBe('/admin/schedules/nightly?notice=schedule-off&name=Nightly')
      expect(await toggle('/admin/schedules/nightly?page=2&notice=schedule-off&name=Old', true)).toBe('/admin/schedules/nightly?page=2&notice=schedule-on&name=Nightly')
      expect(await toggle(undefined, true)).toBe('/admin/schedules?notice=schedule-on&name=Nightly')
    })

    it('never sends you outside the admin UI', async () => {
      for (const back of ['https://evil.example/admin', '//evil.example/admin', '/\\evil.example/admin', '/admin/../api/runs', '/api/runs', 'admin/schedules', '/administrator']) {
        expect(await toggle(back, true)).toBe('/admin/schedules?notice=schedule-on&name=Nightly')
      }
    })

    it('a refused trigger goes back too, saying why', async () => {
      await toggle(undefined, false)
      await session.page('/admin/schedules/nightly')
      const response = await session.post('/admin/schedules/nightly/trigger', { _csrf: session.csrf, back: '/admin/schedules/nightly' })
      const location = new URL(response.headers.get('location')!, server.url)
      expect(location.pathname).toBe('/admin/schedules/nightly')
      expect(location.searchParams.get('notice')).toBe('conflict')
      expect(location.searchParams.get('message')).toMatch(/disabled/)
      await toggle(undefined, true)
    })

    it('rejects a toggle without a clear state, naming the bad value', async () => {
      await session.page('/admin/schedules')
      const response = await session.post('/admin/schedules/nightly/toggle', { _csrf: session.csrf, enabled: 'maybe' }, { accept: 'application/json' })
      expect(response.status).toBe(400)
      expect(await response.text()).toContain('enabled: expected \\"true\\" or \\"false\\", got \\"maybe\\"')
      expect((await engine.getSchedule('nightly')).enabled).toBe(true)
    })
  })

  describe('the start socket', () => {
    const ws = (path: string): string => `${server.url.replace('http', 'ws')}${path}`

    it('refuses a dangerous task without a confirmation (4003) and runs nothing', async () => {
      const refused = await socket(ws('/admin/task/danger/start?table=users'))
      expect(refused.code).toBe(4003)
      expect(refused.messages).toEqual([{ channel: 'task:danger', cmd: 'error', param: { code: 'ERR_CONFIRMATION_REQUIRED', message: 'task "danger" is dangerous (Deletes all the things): confirm with confirm=1, or start it from the admin form' } }])
      expect(drops).toEqual([])
    })

    it('runs a dangerous task for a scripted client that confirms with confirm=1', async () => {
      const confirmed = await socket(ws('/admin/task/danger/start?table=logs&confirm=1'))
      expect(confirmed.code).toBe(1000)
      expect(confirmed.messages.map((m) => m.cmd)).toEqual(['started', 'complete', 'close-connection'])
      expect(confirmed.messages[1]).toMatchObject({ param: { result: { status: 'succeeded', data: 'dropped logs' } } })
      expect(drops.splice(0)).toEqual([{ table: 'logs' }])
    })

    it('redeems a ticket from the form once, with the posted arguments and label; a second use is refused', async () => {
      await session.page('/admin/task/danger')
      const page = await (await session.post('/admin/task/danger/start', { _csrf: session.csrf, table: 'sessions', 'te:confirm': 'yes', 'te:label': 'cleanup' })).text()
      const path = /data-socket="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&')
      // Arguments in the URL cannot change what was confirmed.
      const first = await socket(ws(`${path}&table=everything`))
      expect(first.messages.find((m) => m.cmd === 'complete')).toMatchObject({ param: { result: { status: 'succeeded', label: 'cleanup', data: 'dropped sessions' } } })
      expect(drops.splice(0)).toEqual([{ table: 'sessions' }])
      const again = await socket(ws(path))
      expect(again.code).toBe(4003)
      expect(again.messages[0]).toMatchObject({ cmd: 'error', param: { code: 'ERR_TICKET' } })
      const forged = await socket(ws('/admin/task/danger/start?ticket=00000000-0000-0000-0000-000000000000'))
      expect(forged.code).toBe(4003)
      expect(drops).toEqual([])
    })

    it('a ticket is for its task only', async () => {
      await session.page('/admin/task/greet')
      const page = await (await session.post('/admin/task/greet/start', { _csrf: session.csrf, name: 'ticket' })).text()
      const ticket = /ticket=([0-9a-f-]{36})/.exec(page)![1]!
      const other = await socket(ws(`/admin/task/danger/start?ticket=${ticket}`))
      expect(other.code).toBe(4003)
      expect(drops).toEqual([])
    })

    it('keeps the seed protocol for other tasks: no ticket or confirmation needed', async () => {
      const plain = await socket(ws('/admin/task/greet/start?name=script'))
      expect(plain.messages.map((m) => m.cmd)).toEqual(['started', 'complete', 'close-connection'])
      expect(plain.messages[1]).toMatchObject({ channel: 'task:greet', param: { result: { data: { greeting: 'Hello, script!' } } } })
    })
  })
})

void vi
