/**
 * The audit trail over HTTP and the built-in sign-in: every operator action through the API and
 * the admin UI leaves one entry saying who (user, token name, or `api` for anonymous loopback
 * use), from where, what, to which target, before and after; `GET /api/audit` filters them in
 * every format; the run page says who cancelled or retried a run. Sign-in sets a revocable
 * session cookie, never says which of name or password was wrong, and is throttled; a revoked
 * token or a disabled user is refused on the next request.
 */
import { describe, expect, it, vi } from 'vitest'
import { createEngine, type AuditEntry, type Engine, type Run } from '../../src/index.js'
import { createServer, serve } from '../../src/server/index.js'
import { WsClient } from '../helpers/ws-client.js'
import { apiHarness, blocker, body, greet, hang, nightly } from '../helpers/api.js'
import { parseCredential } from '../../src/engine/access/secrets.js'

const { engines, servers } = apiHarness()
const PASSWORD = 'correct horse battery'
const CSRF = 'csrf-token-for-the-audit-test'

function setup() {
  const engine = createEngine({ tasks: [greet, hang, blocker], schedules: [nightly], pollIntervalMs: 20 })
  engines.push(engine)
  const server = createServer(engine, { syncRunTimeoutMs: 2000, onError: () => undefined })
  servers.push(server)
  const call = (path: string, init: { method?: string; json?: unknown; form?: Record<string, string>; token?: string; cookie?: string; headers?: Record<string, string> } = {}) => {
    const headers = new Headers(init.headers)
    if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`)
    const cookies = [init.cookie, init.form === undefined ? undefined : `te_csrf=${CSRF}`].filter((c) => c !== undefined)
    if (cookies.length > 0) headers.set('cookie', cookies.join('; '))
    let payload: string | undefined
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json')
      payload = JSON.stringify(init.json)
    } else if (init.form !== undefined) {
      headers.set('content-type', 'application/x-www-form-urlencoded')
      payload = new URLSearchParams({ ...init.form, _csrf: CSRF }).toString()
    }
    return server.app.request(path, { method: init.method ?? (payload === undefined ? 'GET' : 'POST'), headers, ...(payload === undefined ? {} : { body: payload }) })
  }
  return { engine, server, call }
}

const cli = { id: 'cli', kind: 'cli', via: 'cli' } as const

async function entries(engine: Engine, filter: Parameters<Engine['audit']['list']>[0] = {}): Promise<AuditEntry[]> {
  return [...(await engine.audit.list({ limit: 1000, ...filter })).entries].reverse()
}

describe('the audit trail', () => {
  it('records every operator action through the API with who, from where, the target and the change', async () => {
    const { engine, call } = setup()
    await engine.users.add('oncall', { role: 'admin', by: cli })
    const { token } = await engine.users.createToken('oncall', { name: 'laptop', by: cli })
    const as = { token, headers: { 'user-agent': 'audit-test/1' } }
    const run = await body<Run>(await call('/api/runs', { ...as, json: { task: 'hang', args: {} } }))
    await call(`/api/runs/${run.id}/cancel`, { ...as, json: { reason: 'wrong tenant' } })
    await call(`/api/runs/${run.id}/retry`, { ...as, method: 'POST' })
    await call(`/api/runs/${run.id}`, { ...as, method: 'DELETE' })
    await call('/api/tasks/greet/run', { ...as, json: { args: { name: 'sync' } } })
    const bulk = await body<{ id: string }>(await call('/api/runs/bulk', { ...as, json: { action: 'cancel', filter: { task: 'hang' } } }))
    await call('/api/schedules/nightly-greet/trigger', { ...as, json: {} })
    await call('/api/schedules/nightly-greet/toggle', { ...as, json: { enabled: false } })
    await call('/api/settings', { ...as, method: 'PUT', json: { runRetentionDays: 9 } })
    await call('/api/queues/default', { ...as, method: 'PUT', json: { paused: true } })
    await call('/api/queues/default', { ...as, method: 'PUT', json: { paused: false } })
    await call('/api/queues/default', { ...as, method: 'PUT', json: { concurrency: 4 } })
    await call('/api/tasks/greet', { ...as, method: 'PUT', json: { concurrency: 2 } })
    await call('/api/users', { ...as, json: { name: 'viewer1', role: 'viewer' } })
    await call('/api/users/viewer1', { ...as, method: 'PATCH', json: { role: 'operator', disabled: true } })
    await call('/api/users/viewer1/tokens', { ...as, json: { name: 'ci' } })
    await call('/api/users/viewer1/tokens/ci', { ...as, method: 'DELETE' })
    await engine.start({ concurrency: 1 })
    let workerId = ''
    await vi.waitFor(async () => {
      workerId = (await engine.workers()).find((w) => w.concurrency > 0)?.id ?? ''
      expect(workerId).not.toBe('')
    })
    await call(`/api/workers/${workerId}/quiet`, { ...as, json: {} })
    await call(`/api/workers/${workerId}/resume`, { ...as, json: {} })
    await engine.stop({ graceMs: 0 })

    const mine = await entries(engine, { actor: 'oncall' })
    expect(mine.map((e) => [e.action, e.target])).toEqual([
      ['run.enqueue', run.id],
      ['run.cancel', run.id],
      ['run.retry', run.id],
      ['run.delete', run.id],
      ['run.sync', expect.any(String)],
      ['bulk.cancel', bulk.id],
      ['schedule.trigger', 'nightly-greet'],
      ['schedule.toggle', 'nightly-greet'],
      ['settings.update', 'settings'],
      ['queue.pause', 'default'],
      ['queue.resume', 'default'],
      ['queue.limits', 'default'],
      ['task.limits', 'greet'],
      ['user.add', 'viewer1'],
      ['user.role', 'viewer1'],
      ['user.disable', 'viewer1'],
      ['token.create', 'viewer1/ci'],
      ['token.revoke', 'viewer1/ci'],
      ['worker.quiet', workerId],
      ['worker.resume', workerId],
    ])
    for (const e of mine) expect(e, e.action).toMatchObject({ actorKind: 'token', tokenName: 'laptop', via: 'api', userAgent: 'audit-test/1' })
    const byAction = Object.fromEntries(mine.map((e) => [e.action, e]))
    expect(byAction['run.cancel']).toMatchObject({ before: { status: 'pending' }, after: { status: 'cancelled' }, details: { task: 'hang', reason: 'wrong tenant' } })
    expect(byAction['run.enqueue']!.details).toMatchObject({ task: 'hang', args: {} })
    expect(byAction['bulk.cancel']!.details).toMatchObject({ filter: { task: 'hang' } })
    expect(typeof (byAction['bulk.cancel']!.details as { count: unknown }).count).toBe('number')
    expect(byAction['schedule.toggle']).toMatchObject({ before: { enabled: true }, after: { enabled: false } })
    expect(byAction['settings.update']).toMatchObject({ before: { runRetentionDays: 30 }, after: { runRetentionDays: 9 } })
    expect(byAction['queue.limits']).toMatchObject({ after: { concurrency: 4 } })
    expect(byAction['user.role']).toMatchObject({ before: { role: 'viewer' }, after: { role: 'operator' } })
    expect(byAction['run.sync']!.details).toMatchObject({ task: 'greet', args: { name: 'sync' }, status: 'succeeded' })
    // The passwords and token secrets never reach the trail.
    expect(JSON.stringify(await entries(engine))).not.toContain(parseCredential(token, 'te')!.secret)
  })

  it('records a cancel that waits for a running handler as requested, not as done', async () => {
    const { engine, call } = setup()
    await engine.start({ concurrency: 1 })
    try {
      const run = await engine.enqueue(hang, {})
      await vi.waitFor(async () => expect((await engine.getRun(run.id))?.status).toBe('running'))
      await call(`/api/runs/${run.id}/cancel`, { json: {} })
      const [entry] = await entries(engine, { action: 'run.cancel' })
      expect(entry).toMatchObject({ before: { status: 'running' }, after: { status: 'running', cancelRequested: true } })
      expect(entry!.before).toEqual({ status: 'running' })
    } finally {
      await engine.stop({ graceMs: 0 })
    }
  })

  it('records the admin UI\'s forms as via "admin", and anonymous loopback use as "api"', async () => {
    const { engine, call } = setup()
    const run = await engine.enqueue(hang, {})
    // No users yet: the open loopback server lets this caller in, recorded as "api".
    await call(`/api/runs/${run.id}/cancel`, { json: {} })
    await engine.users.add('oncall', { role: 'operator', password: PASSWORD, by: cli })
    const signIn = await call('/admin/login', { form: { user: 'oncall', password: PASSWORD } })
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!
    await call(`/admin/runs/${run.id}/retry`, { cookie, form: {} })
    await call('/admin/task/greet/enqueue', { cookie, form: { name: 'form' } })
    await call('/admin/schedules/nightly-greet/toggle', { cookie, form: { enabled: 'false' } })
    const recorded = await entries(engine, { action: 'run.' })
    expect(recorded.map((e) => [e.action, e.actor, e.actorKind, e.via])).toEqual([
      ['run.cancel', 'api', 'anonymous', 'api'],
      ['run.retry', 'oncall', 'user', 'admin'],
      ['run.enqueue', 'oncall', 'user', 'admin'],
    ])
    expect((await entries(engine, { action: 'schedule.toggle' }))[0]).toMatchObject({ actor: 'oncall', before: { enabled: true }, after: { enabled: false } })
    // The run page's timeline says who did what.
    const page = await (await call(`/admin/runs/${run.id}`, { cookie, headers: { accept: 'text/html' } })).text()
    expect(page).toContain('cancelled by api')
    expect(page).toContain('retried by oncall')
  })

  it('records the live view\'s start and Stop against the stored run, as the caller who opened it', async () => {
    const engine = createEngine({ tasks: [greet, blocker] })
    engines.push(engine)
    await engine.users.add('oncall', { role: 'operator', by: cli })
    const { token } = await engine.users.createToken('oncall', { name: 'browser', by: cli })
    const running = await serve(engine, { port: 0 })
    try {
      const auth = { authorization: `Bearer ${token}` }
      const form = new URLSearchParams({ _csrf: CSRF }).toString()
      const page = await (await fetch(`${running.url}/admin/task/blocker/start`, { method: 'POST', headers: { ...auth, cookie: `te_csrf=${CSRF}`, 'content-type': 'application/x-www-form-urlencoded' }, body: form })).text()
      const path = /data-socket="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&')
      const live = new WsClient(`${running.url.replace('http', 'ws')}${path}`, auth)
      await live.opened
      await vi.waitFor(() => expect(live.messages.some((m) => m.cmd === 'started')).toBe(true))
      const runId = (live.messages.find((m) => m.cmd === 'started')!.param as { runId: string }).runId
      live.send({ cmd: 'stop' })
      await vi.waitFor(async () => expect((await engine.getRun(runId))?.status).toBe('cancelled'))
      const recorded = await entries(engine, { target: runId })
      expect(recorded.map((e) => [e.action, e.actor, e.tokenName, e.via])).toEqual([
        ['run.start', 'oncall', 'browser', 'admin'],
        ['run.cancel', 'oncall', 'browser', 'admin'],
      ])
      expect(recorded[0]!.details).toEqual({ task: 'blocker', args: {}, live: true })
    } finally {
      await running.close()
    }
  })

  it('answers GET /api/audit filtered by actor, action, target and time, paged, in every format, to audit:read only', async () => {
    const { engine, call } = setup()
    for (let i = 0; i < 5; i++) await engine.audit.record({ id: i % 2 === 0 ? 'ada' : 'bob', kind: 'user', via: 'api' }, { action: i < 3 ? 'run.cancel' : 'schedule.toggle', target: `t${i}` })
    await engine.users.add('auditor', { role: 'admin', by: cli })
    await engine.users.add('looker', { role: 'viewer', by: cli })
    const admin = (await engine.users.createToken('auditor', { name: 'a', by: cli })).token
    const viewer = (await engine.users.createToken('looker', { name: 'v', by: cli })).token
    const list = async (query: string) => (await body<{ entries: AuditEntry[]; next: string | null }>(await call(`/api/audit?${query}`, { token: admin }))).entries.map((e) => e.target)
    expect(await list('actor=ada&action=run.')).toEqual(['t2', 't0'])
    expect(await list('action=schedule.toggle')).toEqual(['t4', 't3'])
    expect(await list('target=t1')).toEqual(['t1'])
    expect(await list(`from=${new Date(Date.now() + 60_000).toISOString()}`)).toEqual([])
    const first = await body<{ entries: AuditEntry[]; next: string }>(await call('/api/audit?action=run.&limit=2', { token: admin }))
    expect(first.entries.map((e) => e.target)).toEqual(['t2', 't1'])
    expect(await list(`action=run.&before=${first.next}`)).toEqual(['t0'])
    const csv = await (await call('/api/audit?format=csv&action=schedule.', { token: admin })).text()
    expect(csv.split('\n')[0]).toBe('id,at,actor,actorKind,tokenName,via,address,userAgent,action,target,before,after,details')
    expect(csv).toContain(',bob,user,,api,,,schedule.toggle,t3,')
    for (const format of ['yaml', 'xml', 'debug']) expect((await call(`/api/audit?format=${format}&target=t4`, { token: admin })).status, format).toBe(200)
    const bad = await call('/api/audit?from=yesterday', { token: admin })
    expect(bad.status).toBe(400)
    expect((await call('/api/audit', { token: viewer })).status).toBe(403)
    expect((await call('/admin/audit', { token: viewer, headers: { accept: 'text/html' } })).status).toBe(403)
    const html = await (await call('/admin/audit?actor=bob', { token: admin, headers: { accept: 'text/html' } })).text()
    expect(html).toContain('schedule.toggle')
    expect(html).not.toContain('>t0<')
    // The Audit page's export is the same table as the API's: a row per entry.
    const exported = (await (await call('/admin/audit?format=csv&action=schedule.', { token: admin })).text()).trim().split('\n')
    expect(exported[0]).toBe('id,at,actor,actorKind,tokenName,via,address,userAgent,action,target,before,after,details')
    expect(exported.slice(1).map((line) => line.split(',')[9])).toEqual(['t4', 't3'])
  })

  it('shows a run\'s readers who did what to it, but not the audit trail\'s addresses, agents or values', async () => {
    const { engine, call } = setup()
    await engine.users.add('looker', { role: 'viewer', by: cli })
    const viewer = (await engine.users.createToken('looker', { name: 'v', by: cli })).token
    const run = await engine.enqueue(hang, {})
    await engine.audit.record({ id: 'oncall', kind: 'user', via: 'admin', address: '10.9.8.7', userAgent: 'secret-agent' }, { action: 'run.cancel', target: run.id, details: { reason: 'private reason' } })
    const data = await call(`/admin/runs/${run.id}?format=json`, { token: viewer })
    expect(data.status).toBe(200)
    const detail = await body<{ actions: Record<string, unknown>[] }>(data)
    expect(detail.actions).toEqual([{ at: expect.any(String) as unknown, action: 'run.cancel', actor: 'oncall', tokenName: null }])
    expect(JSON.stringify(detail)).not.toMatch(/10\.9\.8\.7|secret-agent|private reason/)
  })
})

describe('sign-in, sessions and tokens over HTTP', () => {
  it('signs in with a password to an HttpOnly SameSite session, answers any wrong pair alike, signs out for good', async () => {
    const { engine, call } = setup()
    await engine.users.add('oncall', { role: 'operator', password: PASSWORD, by: cli })
    const refused = [await call('/admin/login', { form: { user: 'oncall', password: 'not the password' } }), await call('/admin/login', { form: { user: 'nobody', password: PASSWORD } })]
    const texts = await Promise.all(refused.map((r) => r.text()))
    expect(refused.map((r) => r.status)).toEqual([401, 401])
    for (const text of texts) expect(text).toContain('Wrong user name or password.')
    expect(texts[0]!.replace(/value="[^"]*"/g, '')).toBe(texts[1]!.replace(/value="[^"]*"/g, ''))
    const ok = await call('/admin/login', { form: { user: 'oncall', password: PASSWORD, next: '/admin/runs' } })
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toBe('/admin/runs')
    const setCookie = ok.headers.get('set-cookie') ?? ''
    expect(setCookie).toMatch(/^taskengine_session=ses_[0-9a-f]{16}_[\w-]{43}; /)
    expect(setCookie).toContain('HttpOnly')
    expect(setCookie).toContain('SameSite=Strict')
    const cookie = setCookie.split(';')[0]!
    expect(await body(await call('/api/me', { cookie }))).toEqual({ id: 'oncall', kind: 'user', tokenName: null, permissions: ['tasks:read', 'runs:read', 'workers:read', 'metrics:read', 'schedules:read', 'settings:read', 'tasks:run', 'runs:cancel', 'runs:retry', 'schedules:write'] })
    // An operator may not delete runs, nor change settings.
    const run = await engine.enqueue(greet, { name: 'x' })
    expect((await call(`/api/runs/${run.id}`, { cookie, method: 'DELETE' })).status).toBe(403)
    const out = await call('/admin/logout', { cookie, form: {} })
    expect(out.status).toBe(303)
    expect(out.headers.get('set-cookie')).toContain('taskengine_session=;')
    // The old cookie is dead in the store, not only in this browser.
    expect((await call('/api/me', { cookie })).status).toBe(401)
    expect((await call('/admin', { cookie, headers: { accept: 'text/html' } })).headers.get('location')).toBe('/admin/login?next=%2Fadmin')
  })

  it('throttles sign-in with 429 and Retry-After after five failures for one user from one address', async () => {
    const { engine, call } = setup()
    await engine.users.add('oncall', { role: 'operator', password: PASSWORD, by: cli })
    for (let i = 0; i < 5; i++) expect((await call('/admin/login', { form: { user: 'oncall', password: `wrong password ${i}` } })).status).toBe(401)
    const held = await call('/admin/login', { form: { user: 'oncall', password: PASSWORD } })
    expect(held.status).toBe(429)
    expect(held.headers.get('retry-after')).toBe('900')
    expect(await held.text()).toContain('Too many failed sign-ins. Try again in 15 minutes.')
    expect(held.headers.get('set-cookie') ?? '').not.toContain('taskengine_session=ses_')
  }, 60_000)

  it('refuses a revoked token and a disabled user on the very next request', async () => {
    const { engine, call } = setup()
    await engine.users.add('admin1', { role: 'admin', by: cli })
    await engine.users.add('ci', { role: 'operator', by: cli })
    const admin = (await engine.users.createToken('admin1', { name: 'a', by: cli })).token
    const ci = await body<{ token: string }>(await call('/api/users/ci/tokens', { token: admin, json: { name: 'deploy' } }))
    expect((await call('/api/tasks', { token: ci.token })).status).toBe(200)
    expect((await call('/api/users/ci/tokens/deploy', { token: admin, method: 'DELETE' })).status).toBe(200)
    expect((await call('/api/tasks', { token: ci.token })).status).toBe(401)
    const again = await body<{ token: string }>(await call('/api/users/ci/tokens', { token: admin, json: { name: 'deploy' } }))
    expect((await call('/api/tasks', { token: again.token })).status).toBe(200)
    expect((await call('/api/users/ci', { token: admin, method: 'PATCH', json: { disabled: true } })).status).toBe(200)
    expect((await call('/api/tasks', { token: again.token })).status).toBe(401)
    // A user manages their own tokens, not others'.
    await call('/api/users/ci', { token: admin, method: 'PATCH', json: { disabled: false } })
    expect((await call('/api/users/ci/tokens', { token: again.token, json: { name: 'mine' } })).status).toBe(201)
    expect((await call('/api/users/admin1/tokens', { token: again.token, json: { name: 'theirs' } })).status).toBe(403)
    // Through the admin UI too, a user without users:read is told why their own token was refused.
    const taken = await call('/admin/users/ci/tokens', { token: again.token, form: { name: 'mine' } })
    expect(taken.status).toBe(409)
    expect(await taken.text()).toContain('user &quot;ci&quot; already has a live token named &quot;mine&quot;')
    // Bad input changes nothing and says what is wrong.
    const weak = await call('/api/users', { token: admin, json: { name: 'new', role: 'viewer', password: 'short' } })
    expect(weak.status).toBe(400)
    expect((await body<{ error: { message: string } }>(weak)).error.message).toMatch(/^password: too short/)
    const role = await call('/api/users/ci', { token: admin, method: 'PATCH', json: { role: 'root', password: 'a fine new password' } })
    expect((await body<{ error: { message: string } }>(role)).error.message).toBe('role: unknown role "root" (string); known: viewer, operator, admin')
    expect((await engine.users.get('ci'))?.role).toBe('operator')
    expect((await engine.users.list()).map((u) => u.name)).toEqual(['admin1', 'ci'])
  })

  it('keeps the single --token as the admin\'s, beside the users', async () => {
    const engine = createEngine({ tasks: [greet] })
    engines.push(engine)
    const server = createServer(engine, { token: 'the-shared-admin-token', onError: () => undefined })
    servers.push(server)
    await engine.users.add('looker', { role: 'viewer', by: cli })
    const viewer = (await engine.users.createToken('looker', { name: 'v', by: cli })).token
    const me = async (token: string) => body(await server.app.request('/api/me', { headers: { authorization: `Bearer ${token}` } }))
    expect(await me('the-shared-admin-token')).toEqual({ id: 'token', kind: 'shared-token', tokenName: null, permissions: ['*'] })
    expect(await me(viewer)).toMatchObject({ id: 'looker', kind: 'token', tokenName: 'v' })
    expect((await server.app.request('/api/me')).status).toBe(401)
  })
})
