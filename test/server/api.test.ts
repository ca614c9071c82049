/**
 * The HTTP API in-process (`app.request`): tasks, runs, formats, pools, auth and safety. Query
 * parameters, OpenAPI, schedules, settings and a base path are in api-more.test.ts.
 */
import { describe, expect, it, vi } from 'vitest'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { parse as parseYaml } from 'yaml'
import { createEngine, defineTask, type Run, type RunPage } from '../../src/index.js'
import { createServer, type AuthResolver } from '../../src/server/index.js'
import { apiHarness, blocker, body, greet, waitFor } from '../helpers/api.js'

const { setup, engines, servers } = apiHarness()

describe('tasks', () => {
  it('lists tasks and describes one, enough to build a form; unknown is 404', async () => {
    const { call } = setup()
    const list = await body<{ key: string }[]>(await call('/api/tasks'))
    expect(list.map((t) => t.key)).toEqual(['blocker', 'greet', 'hang', 'taskengine.retention'])
    const one = await body(await call('/api/tasks/greet'))
    expect(one).toMatchObject({ key: 'greet', title: 'Greet', category: 'demo', fields: [{ key: 'name', type: 'string', required: true }, { key: 'times', type: 'int', default: 1, min: 1, max: 5 }] })
    const missing = await call('/api/tasks/nope')
    expect(missing.status).toBe(404)
    expect(await body(missing)).toEqual({ error: { code: 'ERR_NOT_FOUND', message: 'unknown task "nope"' } })
  })

  it('runs a task synchronously and answers with the result', async () => {
    const { call } = setup()
    const response = await call('/api/tasks/greet/run', { method: 'POST', json: { args: { name: 'Ada', times: '2' }, options: { label: 'http' } } })
    expect(response.status).toBe(200)
    expect(await body(response)).toMatchObject({ task: 'greet', label: 'http', status: 'succeeded', args: { name: 'Ada', times: 2 }, data: { greeting: 'Hello, Ada!Hello, Ada!' }, logs: [{ message: 'hello Ada' }] })
  })

  it('bounds a synchronous run by the server\'s time limit', async () => {
    const { call } = setup()
    const result = await body(await call('/api/tasks/hang/run', { method: 'POST', json: { options: { timeoutMs: 60_000 } } }))
    expect(result).toMatchObject({ status: 'failed', error: { code: 'ERR_TIMEOUT', message: 'timed out after 200 ms' } })
  })

  it('refuses invalid arguments with every bad field, and runs nothing', async () => {
    const { call } = setup()
    const response = await call('/api/tasks/greet/run', { method: 'POST', json: { args: { times: 9, extra: true } } })
    expect(response.status).toBe(400)
    const { error } = await body<{ error: { code: string; fields: { key: string }[] } }>(response)
    expect(error.code).toBe('ERR_VALIDATION')
    expect(error.fields.map((f) => f.key)).toEqual(['name', 'times', 'extra'])
  })
  it('lists every problem of a run request at once, and refuses options it does not know', async () => {
    const { call } = setup()
    const response = await call('/api/tasks/greet/run', { method: 'POST', json: { args: { times: 9 }, options: { queue: 'q', label: '' }, extra: 1 } })
    expect(response.status).toBe(400)
    const { error } = await body<{ error: { code: string; message: string; fields: { key: string }[] } }>(response)
    expect(error.fields.map((f) => f.key)).toEqual(['extra', 'options.queue', 'options.label', 'name', 'times'])
    expect(error.message).toContain('options.queue: unknown option (known: label, timeoutMs)')
    const unknownOnly = await call('/api/tasks/greet/run', { method: 'POST', json: { args: { name: 'x' }, options: { queue: 'q' } } })
    expect(unknownOnly.status).toBe(400)
    expect((await body<{ error: { fields: { key: string }[] } }>(unknownOnly)).error.fields.map((f) => f.key)).toEqual(['options.queue'])
  })
})

describe('runs', () => {
  it('enqueues a durable run recording who asked, lists, reads, logs and artifacts', async () => {
    const { engine, call } = setup()
    const created = await call('/api/runs', { method: 'POST', json: { task: 'greet', args: { name: 'Bob' }, options: { label: 'api', tags: ['x'], priority: 3 } } })
    expect(created.status).toBe(201)
    const run = await body<Run>(created)
    expect(run).toMatchObject({ task: 'greet', status: 'pending', label: 'api', tags: ['x'], priority: 3, createdBy: 'local' })
    await engine.start()
    await waitFor(engine, run.id, 'succeeded')
    expect(await body(await call(`/api/runs/${run.id}`))).toMatchObject({ id: run.id, status: 'succeeded', data: { greeting: 'Hello, Bob!' } })
    const logs = await body<{ logs: { seq: number; message: string }[]; next: number }>(await call(`/api/runs/${run.id}/logs`))
    expect(logs.logs.map((l) => l.message)).toEqual(['hello Bob', expect.stringMatching(/^completed in \d+ ms$/)])
    expect(logs.next).toBe(2)
    expect((await body<{ logs: unknown[] }>(await call(`/api/runs/${run.id}/logs?after=2`))).logs).toEqual([])
    expect(await body(await call(`/api/runs/${run.id}/artifacts`))).toMatchObject([{ name: 'greeting.txt', contentType: 'text/plain', size: 11 }])
    const file = await call(`/api/runs/${run.id}/artifacts/greeting.txt`)
    expect(file.headers.get('content-type')).toBe('text/plain')
    expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="greeting.txt"/)
    expect(await file.text()).toBe('Hello, Bob!')
    expect((await call(`/api/runs/${run.id}/artifacts/missing.txt`)).status).toBe(404)
    expect((await call('/api/runs/00000000-0000-7000-8000-000000000000')).status).toBe(404)
    const long = await call(`/api/runs/${'x'.repeat(10_000)}`)
    expect(long.status).toBe(400)
    expect((await body<{ error: { message: string } }>(long)).error.message).toBe('run id: expected at most 100 characters, got 10,000 characters')
  })

  it('takes a client request id: the same request again answers the run it made, even once finished; a bad one is a 400 naming it', async () => {
    const { engine, call } = setup()
    const send = async (options: Record<string, unknown>): Promise<Response> => await call('/api/runs', { method: 'POST', json: { task: 'greet', args: { name: 'Ann' }, options } })
    const first = await body<Run>(await send({ requestId: 'order-7' }))
    await engine.start()
    await waitFor(engine, first.id, 'succeeded')
    const again = await send({ requestId: 'order-7' })
    expect(await body<Run>(again)).toMatchObject({ id: first.id, requestId: 'order-7', status: 'succeeded' })
    const bad = await send({ requestId: 'x'.repeat(201) })
    expect(bad.status).toBe(400)
    expect((await body<{ error: { message: string } }>(bad)).error.message).toMatch(/requestId/)
    expect((await engine.listRuns({})).data).toHaveLength(1)
  })

  it('serves an artifact stored with a content type that is no media type (before such types were refused) as bytes', async () => {
    const { engine, call } = setup()
    const run = await engine.enqueue('greet', { name: 'Old' })
    const store = await engine.store()
    const [claimed] = await store.claimRuns({ workerId: 'w', limit: 1, now: Date.now(), leaseUntil: Date.now() + 30_000, tasks: ['greet'], queues: undefined, taskCaps: new Map(), queueCaps: new Map() })
    expect(await store.putArtifact({ runId: run.id, token: claimed!.token, name: 'h.txt', contentType: 'text/plain\r\nX-Injected: 1', data: Buffer.from('x'), now: Date.now() })).toBe(true)
    const file = await call(`/api/runs/${run.id}/artifacts/h.txt`)
    expect(file.status).toBe(200)
    expect(file.headers.get('content-type')).toBe('application/octet-stream')
    expect(file.headers.get('x-injected')).toBeNull()
    expect(await file.text()).toBe('x')
  })

  it('pages and filters the run list, newest first', async () => {
    const { engine, call } = setup()
    await engine.enqueueMany(greet, Array.from({ length: 25 }, (_, i) => ({ name: `n${i}` })), { label: 'bulk', tags: ['many'] })
    await engine.enqueue(greet, { name: 'needle' }, { label: 'single', queue: 'special' })
    const page = await body<RunPage>(await call('/api/runs?page=2&pageSize=10'))
    expect(page).toMatchObject({ total: 26, page: 2, pageSize: 10 })
    expect(page.data).toHaveLength(10)
    expect((await body<RunPage>(await call('/api/runs?search=needle'))).data.map((r) => r.label)).toEqual(['single'])
    expect((await body<RunPage>(await call('/api/runs?queue=special&status=pending'))).total).toBe(1)
    expect((await body<RunPage>(await call('/api/runs?tag=many&label=bulk'))).total).toBe(25)
    expect((await body<RunPage>(await call(`/api/runs?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`))).total).toBe(0)
    const bad = await call('/api/runs?pageSize=101&status=done&from=yesterday')
    expect(bad.status).toBe(400)
    const { error } = await body<{ error: { fields: { key: string }[]; message: string } }>(bad)
    expect(error.fields.map((f) => f.key)).toEqual(['pageSize', 'status', 'from'])
    expect(error.message).toMatch(/^invalid query: pageSize: expected int from 1 to 100, got "101"/)
  })

  it('filters the run list by task, creator, pool, time range and text in the arguments, newest first', async () => {
    let now = Date.parse('2026-03-01T10:00:00Z')
    const engine = createEngine({ tasks: [greet, blocker], clock: () => now })
    engines.push(engine)
    const server = createServer(engine, { onError: () => undefined })
    servers.push(server)
    const list = async (query: string) => (await (await server.app.request(`/api/runs?${query}`)).json()) as RunPage
    const at = async (iso: string, enqueue: () => Promise<Run>): Promise<Run> => {
      now = Date.parse(iso)
      return enqueue()
    }
    const first = await at('2026-03-01T10:00:00Z', () => engine.enqueue(greet, { name: 'zebra-42' }, { createdBy: 'ada' }))
    const second = await at('2026-03-01T11:00:00Z', () => engine.enqueue(blocker, {}, { createdBy: 'bob' }))
    const pool = engine.pool({ label: 'batch' })
    const third = await at('2026-03-01T12:00:00Z', () => pool.add(greet, { name: 'lion' }))
    const fourth = await at('2026-03-01T13:00:00Z', () => engine.enqueue(greet, { name: 'tiger' }, { createdBy: 'ada' }))
    const ids = (page: RunPage) => page.data.map((r) => r.id)
    expect(ids(await list(''))).toEqual([fourth.id, third.id, second.id, first.id])
    expect(ids(await list('task=blocker'))).toEqual([second.id])
    expect(ids(await list('task=greet'))).toEqual([fourth.id, third.id, first.id])
    expect(ids(await list('createdBy=ada'))).toEqual([fourth.id, first.id])
    expect(ids(await list(`pool=${pool.id}`))).toEqual([third.id])
    // `to` is exclusive: runs created before it.
    expect(ids(await list(`to=${encodeURIComponent('2026-03-01T12:00:00Z')}`))).toEqual([second.id, first.id])
    expect(ids(await list(`from=${encodeURIComponent('2026-03-01T11:00:00Z')}&to=${encodeURIComponent('2026-03-01T13:00:00Z')}`))).toEqual([third.id, second.id])
    // Search finds text inside the arguments (the label is the default "ad-hoc").
    expect(ids(await list('search=zebra'))).toEqual([first.id])
    expect(ids(await list('search=ebra-4'))).toEqual([first.id])
    expect(ids(await list('task=greet&createdBy=ada&search=tiger'))).toEqual([fourth.id])
    expect((await list('createdBy=nobody')).total).toBe(0)
    // A bounded search: the newest two runs, then on from scanBefore; before alone walks pages.
    const sliced = await list('search=e&scanLimit=2')
    expect(ids(sliced)).toEqual([fourth.id, third.id])
    expect(sliced.scanBefore).toBe(third.id)
    const rest = await list(`search=e&scanLimit=2&before=${sliced.scanBefore}`)
    expect(ids(rest)).toEqual([second.id, first.id])
    expect(rest.scanBefore).toBeUndefined()
    expect(ids(await list(`before=${second.id}`))).toEqual([first.id])
    expect(await list('countLimit=2')).toMatchObject({ total: 2, totalCapped: true })
  })

  it('refuses a bad scanLimit, countLimit or before, naming it', async () => {
    const { call } = setup()
    for (const [query, named] of [
      ['scanLimit=0', /scanLimit/],
      ['scanLimit=lots', /scanLimit/],
      ['countLimit=-1', /countLimit/],
      [`before=${'x'.repeat(101)}`, /before: expected at most 100 characters/],
      ['scanLimit=5&sort=created', /scanLimit: .*sort -created/],
    ] as const) {
      const response = await call(`/api/runs?${query}`)
      expect(response.status, query).toBe(400)
      expect((await body<{ error: { message: string } }>(response)).error.message).toMatch(named)
    }
  })

  it('lists every bad option and argument of an enqueue at once, and stores nothing', async () => {
    const { engine, call } = setup()
    const response = await call('/api/runs', { method: 'POST', json: { task: 'greet', args: { times: 9 }, options: { runAt: 'garbage', bogus: 1, priority: 'high' } } })
    expect(response.status).toBe(400)
    const { error } = await body<{ error: { code: string; message: string; fields: { key: string; message: string }[] } }>(response)
    expect(error.code).toBe('ERR_VALIDATION')
    const keys = error.fields.map((f) => f.key)
    expect(keys.slice(0, 2)).toEqual(['options.runAt', 'options.bogus'])
    expect(keys.slice(-2)).toEqual(['name', 'times'])
    // The engine's own check of the options is part of the same answer.
    expect(keys).toContainEqual(expect.stringMatching(/^options(\.priority)?$/))
    expect(error.message).toMatch(/options\.runAt: expected an ISO 8601 time or epoch ms, got "garbage" \(string\)/)
    expect(error.message).toMatch(/priority: expected an integer from -9007199254740991 to 9007199254740991, got "high"/)
    const onlyTwo = await body<{ error: { fields: { key: string }[] } }>(await call('/api/runs', { method: 'POST', json: { task: 'greet', args: { name: 'x' }, options: { runAt: 'garbage', bogus: 1 } } }))
    expect(onlyTwo.error.fields.map((f) => f.key)).toEqual(['options.runAt', 'options.bogus'])
    expect((await engine.listRuns()).total).toBe(0)
    // Well-formed times in text are taken.
    const later = new Date(Date.now() + 3_600_000)
    const scheduled = await body<Run>(await call('/api/runs', { method: 'POST', json: { task: 'greet', args: { name: 'x' }, options: { runAt: later.toISOString() } } }))
    expect(new Date(scheduled.runAt).getTime()).toBe(later.getTime())
  })

  it('reads a recorded in-process run like any run (its logs and artifacts too); a cancel over the API stops its handler; a retry is a 409', async () => {
    const { engine, call } = setup()
    const greeted = await engine.run(greet, { name: 'Ann' }, { record: true, createdBy: 'ann', startedFrom: 'admin' })
    expect(await body(await call(`/api/runs/${greeted.id}`))).toMatchObject({ id: greeted.id, status: 'succeeded', inProcess: true, startedFrom: 'admin', createdBy: 'ann', data: { greeting: 'Hello, Ann!' } })
    expect((await body<{ logs: { message: string }[] }>(await call(`/api/runs/${greeted.id}/logs`))).logs.map((l) => l.message)).toEqual(['hello Ann', expect.stringMatching(/^completed in \d+ ms$/)])
    expect(await (await call(`/api/runs/${greeted.id}/artifacts/greeting.txt`)).text()).toBe('Hello, Ann!')
    expect((await body<RunPage>(await call('/api/runs?createdBy=ann'))).data.map((r) => r.id)).toEqual([greeted.id])
    const blocked = engine.run(blocker, {}, { record: true })
    const id = await vi.waitFor(async () => {
      const [running] = (await engine.listRuns({ task: 'blocker', status: 'running' })).data
      expect(running).toBeDefined()
      return running!.id
    })
    expect((await call(`/api/runs/${id}/cancel`, { method: 'POST', json: { reason: 'enough' } })).status).toBe(200)
    expect(await blocked).toMatchObject({ id, status: 'cancelled', error: { message: 'cancelled: enough' } })
    expect(await body(await call(`/api/runs/${id}`))).toMatchObject({ status: 'cancelled', cancelledBy: 'local', inProcess: true })
    const retry = await call(`/api/runs/${id}/retry`, { method: 'POST' })
    expect(retry.status).toBe(409)
    expect(await body(retry)).toMatchObject({ error: { code: 'ERR_CONFLICT', message: expect.stringContaining('executed in-process') as string } })
  })

  it('cancels, retries and deletes, with 409 for invalid transitions', async () => {
    const { engine, call } = setup()
    await engine.start()
    const run = await body<Run>(await call('/api/runs', { method: 'POST', json: { task: 'blocker' } }))
    await waitFor(engine, run.id, 'running')
    expect((await call(`/api/runs/${run.id}/retry`, { method: 'POST' })).status).toBe(409)
    const cancel = await call(`/api/runs/${run.id}/cancel`, { method: 'POST', json: { reason: 'enough' } })
    expect(cancel.status).toBe(200)
    await waitFor(engine, run.id, 'cancelled')
    const again = await call(`/api/runs/${run.id}/cancel`, { method: 'POST' })
    expect(again.status).toBe(409)
    expect((await body<{ error: { code: string } }>(again)).error.code).toBe('ERR_CONFLICT')
    expect(await body(await call(`/api/runs/${run.id}/retry`, { method: 'POST' }))).toMatchObject({ status: 'pending', cancelRequestedAt: null })
    await waitFor(engine, run.id, 'running')
    expect((await call(`/api/runs/${run.id}`, { method: 'DELETE' })).status).toBe(200)
    expect((await call(`/api/runs/${run.id}`)).status).toBe(404)
  })

  it('answers bad bodies with clear errors and stores nothing', async () => {
    const { engine, call, server } = setup({ maxBodyBytes: 1000 })
    const post = (init: RequestInit) => server.app.request('/api/runs', { method: 'POST', ...init })
    const cases: [RequestInit, number, string][] = [
      [{ body: '{"task":', headers: { 'content-type': 'application/json' } }, 400, 'ERR_MALFORMED_JSON'],
      [{ body: '[1,2]', headers: { 'content-type': 'application/json' } }, 400, 'ERR_VALIDATION'],
      [{ body: 'task=greet', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
      [{ body: JSON.stringify({ task: 'greet', args: { name: 'x'.repeat(2000) } }), headers: { 'content-type': 'application/json' } }, 413, 'ERR_PAYLOAD_TOO_LARGE'],
      [{ body: JSON.stringify({ task: 'nope' }), headers: { 'content-type': 'application/json' } }, 404, 'ERR_NOT_FOUND'],
      [{ body: JSON.stringify({ task: 'greet', args: { name: 'x' }, options: { poolId: 'p' } }), headers: { 'content-type': 'application/json' } }, 400, 'ERR_VALIDATION'],
      [{ body: JSON.stringify({ task: 'greet', args: [] }), headers: { 'content-type': 'application/json' } }, 400, 'ERR_VALIDATION'],
      [{ body: JSON.stringify({ task: 'greet', args: { name: 'x' }, colour: 1 }), headers: { 'content-type': 'application/json' } }, 400, 'ERR_VALIDATION'],
    ]
    for (const [init, status, code] of cases) {
      const response = await post(init)
      expect(response.status, JSON.stringify(init.body)).toBe(status)
      const { error } = await body<{ error: { code: string; message: string; stack?: unknown } }>(response)
      expect(error.code).toBe(code)
      expect(error.message.length).toBeGreaterThan(5)
      expect(error).not.toHaveProperty('stack')
    }
    expect((await engine.listRuns()).total).toBe(0)
    const unknown = await call('/api/nothing-here')
    expect(unknown.status).toBe(404)
    expect(await body(unknown)).toEqual({ error: { code: 'ERR_NOT_FOUND', message: 'no route for GET /api/nothing-here' } })
  })
})

describe('formats', () => {
  it('answers every GET in json, csv, xml, yaml and debug, by query or Accept, and as a download', async () => {
    const { engine, call } = setup()
    const run = await engine.enqueue(greet, { name: '=cmd|hostile' }, { tags: ['a', 'b'] })
    const csv = await call('/api/runs?format=csv')
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    const [header, row] = (await csv.text()).trim().split('\n')
    expect(header).toMatch(/^id,task,label,status,queue,priority,attempt,maxAttempts,createdAt,startedAt,finishedAt,durationMs,createdBy,category,tags,progress,args,errorCode/)
    expect(row).toContain(`${run.id},greet,ad-hoc,pending,default,0,0,3,`)
    expect(row).toContain(',a; b,')
    const xml = await (await call(`/api/runs/${run.id}?format=xml`)).text()
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<run-[^>]+>/)
    expect(xml).toContain(`<id>${run.id}</id>`)
    expect(xml).toContain('<tags>')
    const yaml = parseYaml(await (await call('/api/tasks/greet', { headers: { accept: 'application/yaml' } })).text()) as { key: string }
    expect(yaml.key).toBe('greet')
    const debug = await call('/api/tasks?format=debug')
    expect(debug.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(await debug.text()).toMatch(/key: 'greet'/)
    const download = await call('/api/runs?format=csv&download=true')
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="runs.csv"')
    const bad = await call('/api/runs?format=pdf')
    expect(bad.status).toBe(400)
    expect((await body<{ error: { fields: { key: string }[] } }>(bad)).error.fields.map((f) => f.key)).toEqual(['format'])
  })

  it('answers each data route in the format asked for: the content type and the body are CSV, XML, YAML or a dump', async () => {
    const { engine, call } = setup()
    await engine.start()
    const run = await engine.enqueue(greet, { name: 'fmt' }, { createdBy: 'local' })
    await waitFor(engine, run.id, 'succeeded')
    const csvHeaders: Record<string, string> = {
      '/api/tasks': 'key,title,category,description,tags,dangerous,expensive,queue,fields',
      [`/api/runs/${run.id}/logs`]: 'seq,time,level,message',
      [`/api/runs/${run.id}/artifacts`]: 'runId,name,contentType,size,createdAt',
      '/api/workers': 'id,host,pid,concurrency,busy,queues,tasks,startedAt,heartbeatAt,running,observer,state,command,commandBy,commandAt',
      '/api/me/runs': 'id,task,label,status,queue,priority,attempt,maxAttempts,createdAt,startedAt,finishedAt,durationMs,createdBy,category,tags,progress,args,errorCode,errorMessage,poolId,parentId',
      '/api/stats': 'start,succeeded,failed,cancelled',
      '/api/schedules': 'id,name,cron,timezone,task,enabled,nextRunAt,lastTickAt,lastRunId,lastRunStatus',
    }
    const xml = new XMLParser()
    for (const [path, header] of Object.entries(csvHeaders)) {
      const json: unknown = await (await call(path)).json()
      const csv = await call(`${path}?format=csv`)
      expect(csv.headers.get('content-type'), path).toBe('text/csv; charset=utf-8')
      const lines = (await csv.text()).trim().split('\n')
      expect(lines[0], path).toBe(header)
      expect(lines.length, path).toBeGreaterThan(1)
      const yaml = await call(`${path}?format=yaml`)
      expect(yaml.headers.get('content-type'), path).toBe('application/yaml; charset=utf-8')
      expect(parseYaml(await yaml.text()), path).toEqual(json)
      const x = await call(`${path}?format=xml`)
      expect(x.headers.get('content-type'), path).toBe('application/xml; charset=utf-8')
      const text = await x.text()
      expect(text, path).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n</)
      expect(XMLValidator.validate(text), path).toBe(true)
      expect(Object.keys(xml.parse(text) as object).filter((k) => k !== '?xml'), path).toHaveLength(1)
      const debug = await call(`${path}?format=debug`)
      expect(debug.headers.get('content-type'), path).toBe('text/plain; charset=utf-8')
      expect(await debug.text(), path).toMatch(/^[[{]/)
    }
    expect(await (await call(`/api/runs/${run.id}/logs?format=csv`)).text()).toMatch(/^seq,time,level,message\n1,[^,]+,info,hello fmt\n2,[^,]+,info,completed in \d+ ms\n$/)
  })

  it('takes the format name in any case', async () => {
    const { call } = setup()
    for (const format of ['CSV', 'Csv']) expect((await call(`/api/tasks?format=${format}`)).headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect((await call('/api/tasks/greet?format=YAML')).headers.get('content-type')).toBe('application/yaml; charset=utf-8')
  })

  it('negotiates the Accept header by q-value, answering JSON unless a data type is preferred', async () => {
    const { call } = setup()
    const typeFor = async (accept: string) => (await call('/api/tasks/greet', { headers: { accept } })).headers.get('content-type')
    // What a browser sends when you open the URL: it wants a page, and gets the API's default.
    expect(await typeFor('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe('application/json; charset=utf-8')
    expect(await typeFor('application/json;q=0.1, text/csv;q=0.9')).toBe('text/csv; charset=utf-8')
    expect(await typeFor('text/plain;q=0.2, application/x-yaml')).toBe('application/yaml; charset=utf-8')
    expect(await typeFor('application/xml, application/json')).toBe('application/xml; charset=utf-8')
    expect(await typeFor('*/*')).toBe('application/json; charset=utf-8')
    expect(await typeFor('text/*')).toBe('application/json; charset=utf-8')
    expect(await typeFor('application/json;q=0, text/csv;q=0.3')).toBe('text/csv; charset=utf-8')
    expect(await typeFor('application/json;q=0, text/*;q=0.5')).toBe('text/csv; charset=utf-8')
    const refused = await call('/api/tasks/greet', { headers: { accept: 'application/json;q=0' } })
    expect(refused.status).toBe(406)
    expect((await body<{ error: { code: string; message: string } }>(refused)).error).toEqual({
      code: 'ERR_NOT_ACCEPTABLE',
      message: 'none of the formats this route answers in (json, csv, xml, yaml, toml, debug) is acceptable to the Accept header; ask with ?format=',
    })
    // ?format= wins over the header.
    expect((await call('/api/tasks/greet?format=json', { headers: { accept: 'text/csv' } })).headers.get('content-type')).toBe('application/json; charset=utf-8')
  })

  it('writes the header row of an empty CSV list, and lists each of the caller\'s runs once', async () => {
    const { engine, call } = setup()
    const runHeader = 'id,task,label,status,queue,priority,attempt,maxAttempts,createdAt,startedAt,finishedAt,durationMs,createdBy,category,tags,progress,args,errorCode,errorMessage,poolId,parentId'
    expect(await (await call('/api/runs?format=csv')).text()).toBe(`${runHeader}\n`)
    expect(await (await call('/api/me/runs?format=csv')).text()).toBe(`${runHeader}\n`)
    expect(await (await call('/api/schedules/nightly-greet/runs?format=csv')).text()).toBe(`${runHeader}\n`)
    const pending = await body<Run>(await call('/api/runs', { method: 'POST', json: { task: 'greet', args: { name: 'p' } } }))
    expect(await (await call(`/api/runs/${pending.id}/logs?format=csv`)).text()).toBe('seq,time,level,message\n')
    expect(await (await call(`/api/runs/${pending.id}/artifacts?format=csv`)).text()).toBe('runId,name,contentType,size,createdAt\n')
    await call('/api/runs', { method: 'POST', json: { task: 'greet', args: { name: 'q' } } })
    // Both runs are active and recent: one row each.
    const mine = (await (await call('/api/me/runs?format=csv')).text()).trim().split('\n')
    expect(mine).toHaveLength(3)
    expect(new Set(mine.slice(1).map((line) => line.split(',')[0]))).toHaveProperty('size', 2)
    expect((await engine.listRuns()).total).toBe(2)
  })

  it('lists every known queue, idle ones too, with its limit across workers and what is pending and running', async () => {
    const engine = createEngine({ tasks: [greet, defineTask({ key: 'send', queue: 'mail', run: () => undefined })], queues: { mail: { concurrency: 2 }, bulk: { concurrency: 5 } } })
    engines.push(engine)
    const server = createServer(engine, { onError: () => undefined })
    servers.push(server)
    await engine.enqueue('greet', { name: 'a' }, { delayMs: 60_000 })
    await engine.enqueue('greet', { name: 'b' }, { queue: 'other', delayMs: 60_000 })
    const response = await server.app.request('/api/queues')
    expect(response.status).toBe(200)
    const queues = await body<{ name: string; concurrency: number | null; tasks: string[]; pending: number; running: number; nextDueAt: string | null }[]>(response)
    expect(queues.map((q) => [q.name, q.concurrency, q.tasks, q.pending, q.running])).toEqual([
      ['bulk', 5, [], 0, 0],
      ['default', null, ['greet', 'taskengine.retention'], 1, 0],
      ['mail', 2, ['send'], 0, 0],
      ['other', null, [], 1, 0],
    ])
    expect(queues.find((q) => q.name === 'default')?.nextDueAt).toMatch(/^\d{4}-\d\d-\d\dT/)
    const csv = (await (await server.app.request('/api/queues?format=csv')).text()).trim().split('\n')
    expect(csv[0]).toBe('name,concurrency,rate,paused,tasks,pending,running,startsInWindow,oldestPendingAt,nextDueAt')
    expect(csv).toHaveLength(5)
    expect((await server.app.request('/api/queues?name=mail')).status).toBe(400)
  })

  it('answers the OpenAPI document in JSON or YAML, and refuses other formats', async () => {
    const { call } = setup()
    const yaml = await call('/api/openapi.json?format=yaml')
    expect(yaml.headers.get('content-type')).toBe('application/yaml; charset=utf-8')
    const doc = parseYaml(await yaml.text()) as { openapi: string; paths: Record<string, unknown> }
    expect(doc.openapi).toBe('3.1.0')
    expect(doc).toEqual(await (await call('/api/openapi.json')).json())
    // The error codes the API answers with are the catalog's that have a status.
    const codes = (doc as unknown as { components: { schemas: { Error: { properties: { error: { properties: { code: { enum: string[] } } } } } } } }).components.schemas.Error.properties.error.properties.code.enum
    expect(codes).toEqual(expect.arrayContaining(['ERR_VALIDATION', 'ERR_MALFORMED_JSON', 'ERR_HOST_NOT_ALLOWED', 'ERR_TICKET', 'ERR_NOT_FOUND', 'ERR_INTERNAL']))
    expect(codes).not.toContain('ERR_SHUTDOWN')
    expect((await call('/api/openapi.json', { headers: { accept: 'application/yaml' } })).headers.get('content-type')).toBe('application/yaml; charset=utf-8')
    const csv = await call('/api/openapi.json?format=csv')
    expect(csv.status).toBe(400)
    expect((await body<{ error: { message: string } }>(csv)).error.message).toBe('format: expected one of json, yaml, got "csv"')
  })

  it('defuses spreadsheet formulas in CSV cells', async () => {
    const { engine, call } = setup()
    await engine.enqueue(greet, { name: 'x' }, { label: '=HYPERLINK("http://evil")' })
    expect(await (await call('/api/runs?format=csv')).text()).toContain(`"'=HYPERLINK(""http://evil"")"`)
  })
})

describe('pools, me, workers, stats, health, metrics', () => {
  it('reports pools, the caller\'s runs, workers and stats', async () => {
    const { engine, call } = setup()
    await engine.start()
    const pool = engine.pool({ label: 'p' })
    await pool.addMany(greet, [{ name: 'a' }, { name: 'b' }])
    await pool.wait()
    const report = await body<{ status: { total: number; done: boolean }; runs: unknown[] }>(await call(`/api/pools/${pool.id}`))
    expect(report.status).toMatchObject({ total: 2, done: true })
    expect(report.runs).toHaveLength(2)
    expect((await call('/api/pools/nope')).status).toBe(404)
    await call('/api/runs', { method: 'POST', json: { task: 'blocker' } })
    const me = await body<{ user: string; active: Run[]; recent: Run[] }>(await call('/api/me/runs'))
    expect(me.user).toBe('local')
    await vi.waitFor(async () => expect((await body<{ active: Run[] }>(await call('/api/me/runs'))).active.map((r) => r.task)).toEqual(['blocker']))
    expect(me.recent.map((r) => r.task)).toEqual(['blocker'])
    const workers = await body<{ id: string; concurrency: number }[]>(await call('/api/workers'))
    expect(workers).toMatchObject([{ id: engine.workerId, concurrency: 10 }])
    const stats = await body<{ statuses: Record<string, number>; throughput: unknown[] }>(await call('/api/stats'))
    expect(stats.statuses.succeeded).toBe(2)
    expect(stats.throughput).toHaveLength(60)
  })

  it('serves health, readiness and Prometheus metrics', async () => {
    const { engine, call } = setup()
    expect(await body(await call('/healthz'))).toEqual({ status: 'ok' })
    expect(await body(await call('/readyz'))).toEqual({ status: 'ready' })
    await engine.start()
    const run = await engine.enqueue(greet, { name: 'm' })
    await waitFor(engine, run.id, 'succeeded')
    await vi.waitFor(async () => expect(await (await call('/metrics')).text()).toMatch(/taskengine_runs_completed_total\{task="greet",status="succeeded"\} 1/))
    const text = await (await call('/metrics')).text()
    expect(text).toMatch(/taskengine_runs_created_total\{task="greet"\} 1/)
    expect(text).toMatch(/taskengine_run_duration_seconds_count\{task="greet",status="succeeded"\} 1/)
    expect(text).toMatch(/taskengine_workers 1/)
    expect(text).toMatch(/# TYPE taskengine_queue_length gauge/)
  })

  it('checks readiness with a cheap store read, not run counts, and reads the counts once per scrape', async () => {
    const { engine, call } = setup()
    const store = await engine.store()
    const counts = vi.spyOn(store, 'stats')
    const settings = vi.spyOn(store, 'getSettings')
    expect((await call('/readyz')).status).toBe(200)
    expect(counts).not.toHaveBeenCalled()
    expect(settings).toHaveBeenCalledTimes(1)
    const scrape = await call('/metrics')
    expect(await scrape.text()).toMatch(/taskengine_runs_running 0/)
    expect(counts).toHaveBeenCalledTimes(1)
    await call('/metrics')
    expect(counts).toHaveBeenCalledTimes(2)
  })

  it('counts log lines dropped from memory by in-process runs', async () => {
    const verbose = defineTask({ key: 'verbose', run: (ctx) => { for (let i = 0; i < 50; i++) ctx.log(`line ${i}`) } })
    const engine = createEngine({ tasks: [verbose], maxLogLines: 20 })
    engines.push(engine)
    const server = createServer(engine, { onError: () => undefined })
    servers.push(server)
    const result = await engine.run(verbose, {})
    expect(result.droppedLogs).toBeGreaterThan(0)
    const text = await (await server.app.request('/metrics')).text()
    expect(text).toContain(`taskengine_logs_dropped_total{task="verbose"} ${result.droppedLogs}`)
  })

  it('reports a store it cannot reach as not ready', async () => {
    const { engine, call } = setup()
    await engine.stats()
    await (await engine.store()).close()
    const response = await call('/readyz')
    expect(response.status).toBe(503)
    expect(await body(response)).toEqual({ status: 'unavailable', error: 'the store is not reachable' })
  })
})

describe('auth and safety', () => {
  it('with a token, requires it (401 without or wrong; Bearer works), but not for health checks', async () => {
    const { call } = setup({ token: 's3cret-0123456789abcdef' })
    const none = await call('/api/tasks')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="taskengine"')
    expect((await body<{ error: { code: string } }>(none)).error.code).toBe('ERR_UNAUTHENTICATED')
    expect((await call('/api/tasks', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
    expect((await call('/api/tasks', { headers: { authorization: 'Bearer s3cret-0123456789abcdef' } })).status).toBe(200)
    expect((await call('/api/tasks', { headers: { cookie: 'taskengine_token=s3cret-0123456789abcdef' } })).status).toBe(200)
    expect((await call('/metrics')).status).toBe(401)
    expect((await call('/healthz')).status).toBe(200)
  })

  it('records createdBy from a custom resolver, forbids what permissions do not allow, and hides others\' runs', async () => {
    const users: Record<string, { id: string; permissions: ('runs:read:own' | 'runs:write' | 'tasks:read')[] }> = {
      ada: { id: 'ada', permissions: ['runs:read:own', 'runs:write', 'tasks:read'] },
      bob: { id: 'bob', permissions: ['runs:read:own', 'runs:write'] },
    }
    const auth: AuthResolver = (request) => users[request.headers.get('x-user') ?? ''] ?? null
    const { call } = setup({ auth })
    const as = (user: string) => ({ headers: { 'x-user': user } })
    const adas = await body<Run>(await call('/api/runs', { method: 'POST', json: { task: 'greet', args: { name: 'a' } }, ...as('ada') }))
    expect(adas.createdBy).toBe('ada')
    await call('/api/runs', { method: 'POST', json: { task: 'greet', args: { name: 'b' } }, ...as('bob') })
    expect((await body<RunPage>(await call('/api/runs', as('ada')))).data.map((r) => r.createdBy)).toEqual(['ada'])
    expect((await call(`/api/runs/${adas.id}`, as('bob'))).status).toBe(404)
    expect((await call(`/api/runs/${adas.id}/cancel`, { method: 'POST', ...as('bob') })).status).toBe(404)
    const forbidden = await call('/api/tasks', as('bob'))
    expect(forbidden.status).toBe(403)
    expect((await body<{ error: { message: string } }>(forbidden)).error.message).toBe('forbidden: "bob" lacks the "tasks:read" permission')
    expect((await call('/api/tasks/greet/run', { method: 'POST', json: { args: { name: 'x' } }, ...as('ada') })).status).toBe(403)
    expect((await call('/api/workers', as('ada'))).status).toBe(403)
    expect((await call('/api/tasks', as('eve'))).status).toBe(401)
    // Another caller's request id (or unique key) answers nothing of that run: a 409 without it.
    const order = await call('/api/runs', { method: 'POST', json: { task: 'greet', args: { name: 'a' }, options: { requestId: 'order-1', uniqueKey: 'u-1' } }, ...as('ada') })
    expect(order.status).toBe(201)
    const orderId = (await body<Run>(order)).id
    const again = await call('/api/runs', { method: 'POST', json: { task: 'greet', args: { name: 'a' }, options: { requestId: 'order-1' } }, ...as('ada') })
    expect(again.status).toBe(200)
    for (const options of [{ requestId: 'order-1' }, { uniqueKey: 'u-1' }]) {
      const taken = await call('/api/runs', { method: 'POST', json: { task: 'greet', args: { name: 'b' }, options }, ...as('bob') })
      expect(taken.status).toBe(409)
      const text = await taken.text()
      expect(text).not.toContain(orderId)
      expect(text).not.toContain('"args"')
    }
  })

  it("shows schedules' runs only to callers who may read them: all, their own, or none", async () => {
    type Perm = 'runs:read' | 'runs:read:own' | 'schedules:read' | 'schedules:write'
    const users: Record<string, { id: string; permissions: Perm[] }> = {
      ops: { id: 'ops', permissions: ['runs:read', 'schedules:read', 'schedules:write'] },
      ada: { id: 'ada', permissions: ['runs:read:own', 'schedules:read', 'schedules:write'] },
      viewer: { id: 'viewer', permissions: ['schedules:read'] },
    }
    const auth: AuthResolver = (request) => users[request.headers.get('x-user') ?? ''] ?? null
    const { call } = setup({ auth })
    const as = (user: string) => ({ headers: { 'x-user': user } })
    const byOps = await body<Run>(await call('/api/schedules/nightly-greet/trigger', { method: 'POST', ...as('ops') }))
    const history = async (user: string) => (await body<RunPage>(await call('/api/schedules/nightly-greet/runs', as(user)))).data.map((r) => r.id)
    const lastRun = async (user: string) => (await body<{ lastRun: Run | null }>(await call('/api/schedules/nightly-greet', as(user)))).lastRun?.id ?? null
    expect(await history('ops')).toEqual([byOps.id])
    expect(await history('ada')).toEqual([])
    expect((await call('/api/schedules/nightly-greet/runs', as('viewer'))).status).toBe(403)
    expect([await lastRun('ops'), await lastRun('ada'), await lastRun('viewer')]).toEqual([byOps.id, null, null])
    const listed = await body<{ id: string; lastRun: Run | null }[]>(await call('/api/schedules', as('viewer')))
    expect(listed.find((s) => s.id === 'nightly-greet')?.lastRun).toBeNull()
    // The admin pages follow the same rule.
    const page = await body<{ runs: RunPage; schedule: { lastRun: Run | null } }>(await call('/admin/schedules/nightly-greet?format=json', as('ada')))
    expect([page.runs.total, page.schedule.lastRun]).toEqual([0, null])
    const byAda = await body<Run>(await call('/api/schedules/nightly-greet/trigger', { method: 'POST', ...as('ada') }))
    expect(await history('ada')).toEqual([byAda.id])
    expect(await history('ops')).toEqual([byAda.id, byOps.id])
    expect(await lastRun('ada')).toBe(byAda.id)
  })

  it('sets security headers on every response', async () => {
    const { call } = setup()
    for (const response of [await call('/api/tasks'), await call('/api/nope'), await call('/healthz')]) {
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      expect(response.headers.get('x-frame-options')).toBe('DENY')
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'")
      expect(response.headers.get('referrer-policy')).toBe('no-referrer')
    }
    // Pages send no referrer to other sites, but their own form posts carry their real Origin
    // (no-referrer would make it "null", which the origin check refuses).
    const page = await call('/admin/settings', { headers: { accept: 'text/html' } })
    expect(page.headers.get('referrer-policy')).toBe('same-origin')
  })

  it('never leaks an internal error: 500 with a generic message, reported to onError', async () => {
    const reported: Error[] = []
    const { engine, call } = setup({ onError: (e) => reported.push(e) })
    vi.spyOn(engine, 'listRuns').mockRejectedValue(new Error('disk on fire at /secret/path'))
    const response = await call('/api/runs')
    expect(response.status).toBe(500)
    expect(await body(response)).toEqual({ error: { code: 'ERR_INTERNAL', message: 'internal server error' } })
    expect(reported[0]?.message).toBe('disk on fire at /secret/path')
  })
})
