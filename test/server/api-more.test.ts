/**
 * The HTTP API in-process (`app.request`): query parameters, the OpenAPI document, schedules,
 * settings, and a base path. The other routes are in api.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { openApiDocument } from '../../src/server/index.js'
import type { AuthResolver } from '../../src/server/index.js'
import type { Run, RunPage, ScheduleInfo, SettingInfo, Settings } from '../../src/index.js'
import { apiHarness, body, greet, hang, waitFor } from '../helpers/api.js'

const { setup } = apiHarness()

describe('query parameters', () => {
  type Issue = { key: string; expected: string; received: string; message: string }
  const errorOf = async (response: Response) => (await body<{ error: { code: string; message: string; fields: Issue[] } }>(response)).error

  it('takes a repeated status as a list, validating every value', async () => {
    const { engine, call } = setup()
    const cancelled = await engine.enqueue(greet, { name: 'c' })
    await engine.cancel(cancelled.id, 'test')
    await engine.enqueue(greet, { name: 'p' })
    await engine.enqueue(hang, {})
    expect((await body<RunPage>(await call('/api/runs?status=pending&status=cancelled'))).total).toBe(3)
    expect((await body<RunPage>(await call('/api/runs?status=cancelled&status=cancelled'))).total).toBe(1)
    expect((await body<RunPage>(await call('/api/runs?status=pending,succeeded&status=cancelled&task=greet'))).total).toBe(2)
    const bogus = await call('/api/runs?status=failed&status=bogus')
    expect(bogus.status).toBe(400)
    expect((await errorOf(bogus)).fields).toEqual([
      {
        key: 'status',
        expected: 'pending, running, waiting, succeeded, failed, cancelled (comma-separated, or the parameter repeated)',
        received: '"bogus" (string)',
        message: 'status: expected pending, running, waiting, succeeded, failed, cancelled (comma-separated, or the parameter repeated), got "bogus" (string)',
      },
    ])
    const history = await call('/api/schedules/nightly-greet/runs?status=pending&status=nope')
    expect((await errorOf(history)).fields.map((f) => [f.key, f.received])).toEqual([['status', '"nope" (string)']])
  })

  it('refuses any other repeated parameter with a 400 naming it, on every route', async () => {
    const { engine, call } = setup()
    await engine.enqueue(greet, { name: 'a' })
    const paged = await call('/api/runs?page=1&page=2')
    expect(paged.status).toBe(400)
    expect((await errorOf(paged)).fields).toEqual([{ key: 'page', expected: 'one value', received: '["1","2"] (array)', message: 'page: given 2 times, expected one value' }])
    // task and tag filter by one value each (the store's filter takes one), so a repeat is an error, not the first of them.
    for (const query of ['task=greet&task=hang', 'tag=a&tag=b', 'from=2020-01-01&from=2021-01-01', 'format=json&format=csv', 'download=true&download=false']) {
      const response = await call(`/api/runs?${query}`)
      expect(response.status, query).toBe(400)
      expect((await errorOf(response)).fields.map((f) => f.key), query).toEqual([query.split('=')[0]])
    }
    const tasks = await call('/api/tasks?format=csv&format=json')
    expect(tasks.status).toBe(400)
    expect((await errorOf(tasks)).message).toBe('invalid query: format: given 2 times, expected one value')
    expect((await call('/api/runs?after=1&after=2'.replace('runs', `runs/${(await engine.listRuns()).data[0]!.id}/logs`))).status).toBe(400)
    expect((await call('/api/settings?describe=true&describe=false')).status).toBe(400)
  })

  it('answers an unknown parameter with the same 400 on every route, writes included, and changes nothing', async () => {
    const { engine, call } = setup()
    const tasks = await call('/api/tasks?stauts=x')
    expect(tasks.status).toBe(400)
    expect((await errorOf(tasks)).message).toBe('invalid query: stauts: unknown query parameter (known: format, t, download)')
    const posted = await call('/api/runs?dryRun=true', { method: 'POST', json: { task: 'greet', args: { name: 'a' } } })
    expect(posted.status).toBe(400)
    expect((await errorOf(posted)).message).toBe('invalid query: dryRun: unknown query parameter (this route takes none)')
    expect((await engine.listRuns()).total).toBe(0)
    // access_token is how clients that cannot send headers authenticate: known everywhere, once.
    expect((await call('/api/tasks?access_token=x')).status).toBe(200)
    expect((await call('/api/tasks?access_token=x&access_token=y')).status).toBe(400)
  })

  it('keeps admin pages answering repeated parameters (the first value), never with a 500', async () => {
    const reported: Error[] = []
    const { engine, call } = setup({ onError: (e) => reported.push(e) })
    const run = await engine.enqueue(greet, { name: 'a' })
    const repeats = 'page=1&page=2&pageSize=5&pageSize=6&status=failed&status=bogus&task=x&task=y&from=a&from=b&q=a&q=b&a.name=x&a.name=y&name=a&name=b&label=a&label=b&async=true&async=false&next=/a&next=/b'
    const pages = ['/admin', '/admin/task', '/admin/task/greet', '/admin/task/greet/run', '/admin/runs', '/admin/runs/export', `/admin/runs/${run.id}`, '/admin/runs/diff', '/admin/workers', '/admin/schedules', '/admin/schedules/nightly-greet', '/admin/settings', '/admin/login']
    for (const path of pages) {
      for (const query of [repeats, `${repeats}&format=json&format=csv`]) {
        for (const accept of ['text/html', 'application/json']) {
          const response = await call(`${path}?${query}`, { headers: { accept } })
          expect(response.status, `${path} ${accept}`).toBeLessThan(500)
        }
      }
    }
    expect(reported).toEqual([])
  })
})

describe('OpenAPI', () => {
  it('describes exactly the routes the app serves, health checks and metrics included', async () => {
    const { server, call } = setup()
    const doc = await body<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(await call('/api/openapi.json'))
    expect(doc.openapi).toBe('3.1.0')
    const served = new Set(
      server.app.routes
        .filter((r) => (r.path.startsWith('/api/') || ['/healthz', '/readyz', '/metrics'].includes(r.path)) && r.method !== 'ALL')
        .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`),
    )
    expect(served).toContain('GET /readyz')
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`)))
    expect([...documented].sort()).toEqual([...served].sort())
    expect(openApiDocument('/base', '1').servers).toEqual([{ url: '/base' }])
  })

  it('documents exactly the query parameters each route reads, and every route refuses any other', async () => {
    const { engine, call } = setup()
    const run = await engine.enqueue(greet, { name: 'q' })
    await engine.cancel(run.id, 'so that retry and delete would change it')
    const before = JSON.stringify(await engine.getRun(run.id))
    type Operation = { parameters?: { name: string; in: string }[] }
    const doc = await body<{ paths: Record<string, Record<string, Operation>> }>(await call('/api/openapi.json'))
    const checked: string[] = []
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/') || path === '/api/stream') continue
      for (const [method, operation] of Object.entries(ops)) {
        const query = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name)
        const url = path.replace('{id}', path.startsWith('/api/schedules/') ? 'nightly-greet' : run.id).replace('{key}', 'greet').replace('{name}', 'greeting.txt')
        const response = await call(`${url}?zz_unknown=1`, { method: method.toUpperCase() })
        expect(response.status, `${method} ${path}`).toBe(400)
        const { error } = await body<{ error: { fields: { key: string; expected: string }[]; message: string } }>(response)
        expect(error.fields.map((f) => f.key), path).toEqual(['zz_unknown'])
        const known = /^a known query parameter \((.*)\)$/.exec(error.fields[0]!.expected)?.[1]?.split(', ') ?? []
        expect(new Set(known), `${method} ${path}`).toEqual(new Set(query))
        checked.push(`${method} ${path}`)
      }
    }
    expect(checked).toHaveLength(46)
    expect(JSON.stringify(await engine.getRun(run.id))).toBe(before)
    expect((await engine.listRuns()).total).toBe(1)
    // A typo is an error naming it, not a silently unfiltered list.
    const typo = await call('/api/runs?stauts=failed')
    expect(typo.status).toBe(400)
    expect((await body<{ error: { message: string } }>(typo)).error.message).toBe(
      'invalid query: stauts: unknown query parameter (known: page, pageSize, status, task, queue, label, tag, createdBy, search, pool, from, to, sort, before, countLimit, scanLimit, format, t, download)',
    )
    expect((await call('/api/runs?access_token=x&format=json&download=false')).status).toBe(200)
    expect((await call('/api/settings?describe=maybe')).status).toBe(400)
  })
})

describe('schedules', () => {
  it('lists schedules with their state, toggles, triggers (refused while disabled), and pages history', async () => {
    const { call, engine } = setup()
    const list = await body<ScheduleInfo[]>(await call('/api/schedules'))
    expect(list.map((s) => s.id)).toEqual(['nightly-greet', 'taskengine.retention'])
    expect(list[0]).toMatchObject({ name: 'Nightly greeting', cron: '0 2 * * *', timezone: 'Europe/Berlin', task: 'greet', enabled: true, lastRun: null })
    expect(new Date(list[0]!.nextRunAt as unknown as string).getTime()).toBeGreaterThan(Date.now())
    const csv = await (await call('/api/schedules?format=csv')).text()
    expect(csv.split('\n')[0]).toBe('id,name,cron,timezone,task,enabled,nextRunAt,lastTickAt,lastRunId,lastRunStatus')

    const off = await call('/api/schedules/nightly-greet/toggle', { method: 'POST', json: { enabled: false } })
    expect(off.status).toBe(200)
    expect(await body(off)).toMatchObject({ id: 'nightly-greet', enabled: false, nextRunAt: null })
    const refused = await call('/api/schedules/nightly-greet/trigger', { method: 'POST' })
    expect(refused.status).toBe(409)
    expect((await body<{ error: { message: string } }>(refused)).error.message).toBe('schedule "nightly-greet" is disabled; enable it before triggering it')
    expect((await body<RunPage>(await call('/api/schedules/nightly-greet/runs'))).total).toBe(0)

    await call('/api/schedules/nightly-greet/toggle', { method: 'POST', json: { enabled: true } })
    const triggered = await call('/api/schedules/nightly-greet/trigger', { method: 'POST' })
    expect(triggered.status).toBe(201)
    const run = await body<Run>(triggered)
    expect(run).toMatchObject({ task: 'greet', scheduleId: 'nightly-greet', category: 'system', createdBy: 'local', args: { name: 'night' }, label: 'Nightly greeting' })
    await engine.start()
    await waitFor(engine, run.id, 'succeeded')
    const history = await body<RunPage>(await call('/api/schedules/nightly-greet/runs?pageSize=5'))
    expect(history).toMatchObject({ total: 1, page: 1, pageSize: 5 })
    expect(history.data[0]!.id).toBe(run.id)
    expect(await body(await call('/api/schedules/nightly-greet'))).toMatchObject({ lastRun: { id: run.id, status: 'succeeded' } })
  })

  it('answers bad requests with errors that name the problem, and changes nothing', async () => {
    const { call } = setup()
    const missing = await call('/api/schedules/nope/toggle', { method: 'POST', json: { enabled: false } })
    expect(missing.status).toBe(404)
    expect((await body<{ error: { message: string } }>(missing)).error.message).toBe('unknown schedule "nope"')
    expect((await call('/api/schedules/nope/trigger', { method: 'POST' })).status).toBe(404)
    expect((await call('/api/schedules/nope/runs')).status).toBe(404)
    const notBool = await call('/api/schedules/nightly-greet/toggle', { method: 'POST', json: { enabled: 'no' } })
    expect(notBool.status).toBe(400)
    expect((await body<{ error: { message: string } }>(notBool)).error.message).toBe('enabled: expected true or false, got "no" (string)')
    expect((await call('/api/schedules/nightly-greet/toggle', { method: 'POST', json: { enabled: false, extra: 1 } })).status).toBe(400)
    const malformed = await call('/api/schedules/nightly-greet/toggle', { method: 'POST', body: '{"enabled":', headers: { 'content-type': 'application/json' } })
    expect(malformed.status).toBe(400)
    expect((await call('/api/schedules/nightly-greet/trigger', { method: 'POST', json: { args: { name: 'x' } } })).status).toBe(400)
    expect((await body<ScheduleInfo[]>(await call('/api/schedules'))).find((s) => s.id === 'nightly-greet')?.enabled).toBe(true)
  })
})

describe('settings', () => {
  it('reads, describes and changes settings; refuses unknown keys and bad values, changing nothing', async () => {
    const { call, engine } = setup()
    expect(await body(await call('/api/settings'))).toEqual({ workerConcurrency: null, runRetentionDays: 30, logRetentionDays: 14, defaultMaxAttempts: 3, logBackend: 'store', rollupRetentionDays: 7, auditRetentionDays: 365 })
    const described = await body<SettingInfo[]>(await call('/api/settings?describe=true'))
    expect(described.map((s) => s.key)).toEqual(['workerConcurrency', 'runRetentionDays', 'logRetentionDays', 'defaultMaxAttempts', 'logBackend', 'rollupRetentionDays', 'auditRetentionDays'])
    expect(await body(await call('/api/settings/log-backends'))).toEqual([{ name: 'store', title: 'Store', description: expect.stringContaining('store') as unknown }])

    const bad = await call('/api/settings', { method: 'PUT', json: { runRetentionDays: -1, shoeSize: 44 } })
    expect(bad.status).toBe(400)
    const { error } = await body<{ error: { message: string; fields: { key: string; expected: string; received: string }[] } }>(bad)
    expect(error.message).toBe(
      'invalid settings: runRetentionDays: expected an integer from 0 to 36500, got -1 (number); shoeSize: unknown setting (known: workerConcurrency, runRetentionDays, logRetentionDays, defaultMaxAttempts, logBackend, rollupRetentionDays, auditRetentionDays)',
    )
    expect(error.fields.map((f) => [f.key, f.received])).toEqual([
      ['runRetentionDays', '-1 (number)'],
      ['shoeSize', '44 (number)'],
    ])
    expect((await call('/api/settings', { method: 'PUT', body: 'runRetentionDays=5', headers: { 'content-type': 'text/plain' } })).status).toBe(415)
    expect((await engine.settings.get()).runRetentionDays).toBe(30)

    const changed = await call('/api/settings', { method: 'PUT', json: { runRetentionDays: 7, workerConcurrency: 4 } })
    expect(changed.status).toBe(200)
    expect(await body<Settings>(changed)).toMatchObject({ runRetentionDays: 7, workerConcurrency: 4 })
    expect((await engine.settings.get()).runRetentionDays).toBe(7)
  })

  it('shows what is wrong at each bad field of the admin settings form, changing nothing', async () => {
    const { call, engine } = setup()
    const form = await call('/admin/settings', { headers: { accept: 'text/html' } })
    const csrf = /name="_csrf" value="([0-9a-f-]{36})"/.exec(await form.text())![1]!
    const cookie = `te_csrf=${csrf}`
    const posted = await call('/admin/settings', {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, runRetentionDays: '-3', logRetentionDays: 'soon', defaultMaxAttempts: '2' }).toString(),
    })
    expect(posted.status).toBe(400)
    const page = await posted.text()
    const invalid = [...page.matchAll(/class="field invalid" data-field="(\w+)"/g)].map((m) => m[1])
    expect(invalid).toEqual(['runRetentionDays', 'logRetentionDays'])
    expect(page).toContain('Expected an integer from 0 to 36500, got -3 (number).')
    expect(page).toContain('Expected an integer from 0 to 36500, got &quot;soon&quot; (string).')
    expect(await engine.settings.get()).toMatchObject({ runRetentionDays: 30, logRetentionDays: 14, defaultMaxAttempts: 3 })
  })

  it('keeps schedules and settings behind their permissions', async () => {
    const auth: AuthResolver = (request) => (request.headers.get('x-user') === 'viewer' ? { id: 'viewer', permissions: ['schedules:read', 'settings:read'] } : null)
    const { call } = setup({ auth })
    const as = { headers: { 'x-user': 'viewer' } }
    expect((await call('/api/schedules', as)).status).toBe(200)
    expect((await call('/api/settings', as)).status).toBe(200)
    expect((await call('/api/schedules/nightly-greet/toggle', { method: 'POST', json: { enabled: false }, ...as })).status).toBe(403)
    expect((await call('/api/schedules/nightly-greet/trigger', { method: 'POST', ...as })).status).toBe(403)
    expect((await call('/api/settings', { method: 'PUT', json: { runRetentionDays: 1 }, ...as })).status).toBe(403)
  })
})

describe('base path', () => {
  it('serves everything under the base path and nothing outside it', async () => {
    const { server } = setup({ basePath: '/ops/tasks/' })
    expect(server.basePath).toBe('/ops/tasks')
    expect((await server.app.request('/ops/tasks/api/tasks')).status).toBe(200)
    expect((await server.app.request('/api/tasks')).status).toBe(404)
  })
})
