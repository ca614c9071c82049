/**
 * Signing in to the admin UI as a browser without a script does: with the server's token, and
 * with a user's name and password once the store has users (a session cookie, the page never
 * saying which of the two was wrong, sign-out ending the session for good, hidden sections and
 * buttons the role may not use).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, defineTask, type Engine } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { Session, text } from '../helpers/admin-session.js'

const greet = defineTask({ key: 'greet', title: 'Greet', fields: [{ key: 'name', type: 'string', required: true }], run: (ctx) => `hi ${ctx.args.name}` })

describe('signing in to a server with a token', () => {
  const TOKEN = 'open sesame, open up'
  let engine: Engine
  let server: RunningServer

  beforeAll(async () => {
    engine = createEngine({ tasks: [greet] })
    server = await serve(engine, { port: 0, token: TOKEN, onError: () => undefined })
  })

  afterAll(async () => {
    await server?.close()
    await engine?.close({ graceMs: 0 })
  })

  it('sends a browser to the sign-in page, refuses a wrong token, and signs in with the right one', async () => {
    const browser = new Session(server.url)
    const away = await browser.get('/admin/runs?status=failed')
    expect(away.status).toBe(303)
    expect(away.headers.get('location')).toBe('/admin/login?next=%2Fadmin%2Fruns%3Fstatus%3Dfailed')
    const login = await browser.page('/admin/login?next=%2Fadmin%2Fruns%3Fstatus%3Dfailed')
    expect(text(login)).toContain('This server requires its access token.')
    expect(login).toContain('<input type="hidden" name="next" value="/admin/runs?status=failed"/>')
    expect(login).toContain('<input type="password" id="token" name="token" autocomplete="current-password" required=""/>')

    const wrong = await browser.post('/admin/login', { token: 'guess', next: '/admin/runs?status=failed' })
    expect(wrong.status).toBe(401)
    expect(text(await wrong.text())).toContain('That token is not valid.')
    expect(browser.cookie).not.toContain('taskengine_token')

    const right = await browser.post('/admin/login', { token: TOKEN, next: '/admin/runs?status=failed' })
    expect(right.status).toBe(303)
    expect(right.headers.get('location')).toBe('/admin/runs?status=failed')
    expect(right.headers.getSetCookie().find((c) => c.startsWith('taskengine_token='))).toMatch(/HttpOnly; SameSite=Strict/)
    const runs = await browser.get('/admin/runs?status=failed')
    expect(runs.status).toBe(200)
    expect(text(await runs.text())).toContain('Runs 0 matching')
  })

  it('never sends you elsewhere after signing in', async () => {
    const browser = new Session(server.url)
    for (const next of ['https://evil.example/admin', '//evil.example/admin', '/api/runs']) {
      const response = await browser.post('/admin/login', { token: TOKEN, next })
      expect(response.headers.get('location')).toBe('/admin')
    }
  })
})

describe('signing in with a user name and password', () => {
  const PASSWORD = 'correct horse battery'
  let engine: Engine
  let server: RunningServer

  beforeAll(async () => {
    engine = createEngine({ tasks: [greet] })
    const by = { id: 'cli', kind: 'cli', via: 'cli' } as const
    await engine.users.add('oncall', { role: 'operator', password: PASSWORD, by })
    await engine.users.add('ada', { role: 'admin', password: PASSWORD, by })
    server = await serve(engine, { port: 0, onError: () => undefined })
  })

  afterAll(async () => {
    await server?.close()
    await engine?.close({ graceMs: 0 })
  })

  it('asks for a name and password, never says which was wrong, and starts a session', async () => {
    const browser = new Session(server.url)
    expect((await browser.get('/admin/runs')).headers.get('location')).toBe('/admin/login?next=%2Fadmin%2Fruns')
    const login = await browser.page('/admin/login?next=%2Fadmin%2Fruns')
    expect(login).toContain('autocomplete="username"')
    expect(text(login)).toContain('Use an access token instead')
    const wrongPassword = await browser.post('/admin/login', { user: 'oncall', password: 'not the password', next: '/admin/runs' })
    const unknownUser = await browser.post('/admin/login', { user: 'nobody', password: PASSWORD, next: '/admin/runs' })
    expect([wrongPassword.status, unknownUser.status]).toEqual([401, 401])
    expect(text(await wrongPassword.text())).toContain('Wrong user name or password.')
    expect(text(await unknownUser.text())).toContain('Wrong user name or password.')
    expect(browser.cookie).not.toContain('taskengine_session')
    const signedIn = await browser.post('/admin/login', { user: 'oncall', password: PASSWORD, next: '/admin/runs' })
    expect(signedIn.status).toBe(303)
    expect(signedIn.headers.get('location')).toBe('/admin/runs')
    const runs = await browser.page('/admin/runs')
    // An operator sees no Users or Audit section, and has a way to sign out.
    expect(text(runs)).toContain('oncall')
    expect(runs).not.toContain('href="/admin/users"')
    expect(runs).not.toContain('href="/admin/audit"')
    expect(runs).toContain('action="/admin/logout"')
    expect((await browser.get('/admin/users')).status).toBe(403)
    const kept = browser.cookie
    const out = await browser.post('/admin/logout', { _csrf: browser.csrf })
    expect(out.headers.get('location')).toBe('/admin/login')
    // A copy of the old cookie opens nothing: the session ended in the store.
    const replay = new Session(server.url)
    replay.cookie = kept
    expect((await replay.get('/admin/runs')).status).toBe(303)
  })

  it('shows an admin the Users and Audit pages, and a run page without the buttons a viewer may not use', async () => {
    const admin = new Session(server.url)
    await admin.post('/admin/login', { user: 'ada', password: PASSWORD })
    const page = await admin.page('/admin')
    expect(page).toContain('href="/admin/users"')
    expect(page).toContain('href="/admin/audit"')
    const users = await admin.page('/admin/users')
    expect(text(users)).toContain('oncall operator enabled')
    // The admin adds a viewer over the form; a weak password is refused and nothing is added.
    const weak = await admin.post('/admin/users', { _csrf: admin.csrf, name: 'viewer1', role: 'viewer', password: 'short' })
    expect(weak.status).toBe(400)
    expect(text(await weak.text())).toContain('password: too short (5 characters)')
    expect((await engine.users.get('viewer1'))).toBeUndefined()
    const added = await admin.post('/admin/users', { _csrf: admin.csrf, name: 'viewer1', role: 'viewer', password: PASSWORD })
    expect(added.headers.get('location')).toBe('/admin/users?notice=user-added&name=viewer1')
    const run = await engine.enqueue(greet, { name: 'x' })
    await engine.cancel(run.id)
    const viewer = new Session(server.url)
    await viewer.post('/admin/login', { user: 'viewer1', password: PASSWORD })
    const runPage = await viewer.page(`/admin/runs/${run.id}`)
    expect(runPage).not.toContain(`action="/admin/runs/${run.id}/retry"`)
    expect(runPage).not.toContain(`action="/admin/runs/${run.id}/delete"`)
    expect(await admin.page(`/admin/runs/${run.id}`)).toContain(`action="/admin/runs/${run.id}/retry"`)
    // Nor the runs list's steering buttons, nor the task form's start buttons.
    const list = await viewer.page('/admin/runs')
    expect(list).not.toContain('name="action" value="cancel"')
    expect(list).toContain('value="compare"')
    expect(text(await viewer.page('/admin/task/greet'))).toContain('Your role may look at this task but not start runs')
    expect(await admin.page('/admin/runs')).toContain('name="action" value="cancel"')
    expect(text(await admin.page('/admin/task/greet'))).not.toContain('Your role may look at this task')
    const audit = text(await admin.page('/admin/audit?action=user.'))
    expect(audit).toContain('user.add')
    expect(audit).toContain('viewer1')
  })
})
