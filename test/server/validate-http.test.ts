/**
 * A task's validate and int64 fields over HTTP: the API answers 400 with the task's issues by
 * field (the shape of field errors), int64 values travel as decimal strings, and the admin form
 * shows each message beside its field and the whole-arguments ones above the form. One real
 * server on a real socket (the admin form checks Host and Origin).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, defineTask, type Engine, type FieldIssue, type Run } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { Session, text } from '../helpers/admin-session.js'

const BIG = '9007199254740993' // 2^53 + 1

const booking = defineTask({
  key: 'booking',
  title: 'Booking',
  fields: [
    { key: 'room', type: 'bigint', required: true },
    { key: 'from', type: 'number', required: true },
    { key: 'to', type: 'int', required: true },
    { key: 'late', type: 'boolean' },
  ],
  validate: ({ from, to, late }) => {
    const issues: ({ field: 'to'; message: string } | string)[] = []
    if (to <= from) issues.push({ field: 'to', message: 'must be after from' })
    if (late && to - from > 2) issues.push('a late booking lasts at most 2 days')
    return issues
  },
  run: (ctx) => ({ room: ctx.args.room, next: ctx.args.room + 1n, nights: ctx.args.to - ctx.args.from }),
})

let engine: Engine
let server: RunningServer
let session: Session

beforeAll(async () => {
  engine = createEngine({ tasks: [booking], store: sqliteStore(':memory:'), pollIntervalMs: 20 })
  server = await serve(engine, { port: 0, onError: () => undefined })
  session = new Session(server.url)
})

afterAll(async () => {
  await server?.close()
  await engine?.close({ graceMs: 0 })
})

const api = (path: string, json?: unknown): Promise<Response> =>
  fetch(`${server.url}${path}`, json === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) })

async function errorOf(response: Response): Promise<{ code: string; message: string; fields: FieldIssue[] }> {
  expect(response.status).toBe(400)
  return ((await response.json()) as { error: { code: string; message: string; fields: FieldIssue[] } }).error
}

describe('the API', () => {
  it('answers 400 with what validate reports, by field, for a sync run and an enqueue; nothing runs or is stored', async () => {
    const before = (await engine.listRuns()).total
    for (const [path, extra] of [['/api/tasks/booking/run', {}], ['/api/runs', { task: 'booking' }]] as const) {
      const error = await errorOf(await api(path, { ...extra, args: { room: '1', from: 3, to: 9, late: true } }))
      expect(error.code).toBe('ERR_VALIDATION')
      expect(error.fields).toEqual([{ key: '', expected: 'a late booking lasts at most 2 days', message: 'a late booking lasts at most 2 days', origin: 'validate' }])
      const both = await errorOf(await api(path, { ...extra, args: { room: '1', from: 3, to: 1, late: 'yes' } }))
      expect(both.fields.map((f) => [f.key, f.message])).toEqual([['to', 'to: must be after from']])
    }
    // Field problems come alone, with the options' problems: validate needs parsed arguments.
    const fields = await errorOf(await api('/api/runs', { task: 'booking', args: { room: '1.5', from: 3, to: 1 }, options: { colour: 'red' } }))
    expect(fields.fields.map((f) => f.key)).toEqual(['options.colour', 'room'])
    expect((await engine.listRuns()).total).toBe(before)
  })

  it('takes and answers int64 values as decimal strings, exact beyond 2^53, and describes the field as int64', async () => {
    const described = (await (await api('/api/tasks/booking')).json()) as { fields: { key: string; type: string }[] }
    expect(described.fields.map((f) => [f.key, f.type])).toEqual([['room', 'int64'], ['from', 'int'], ['to', 'int'], ['late', 'bool']])
    const sync = await api('/api/tasks/booking/run', { args: { room: BIG, from: 1, to: 2 } })
    expect(sync.status).toBe(200)
    expect(await sync.json()).toMatchObject({ status: 'succeeded', args: { room: BIG, from: 1, to: 2, late: false }, data: { room: BIG, next: '9007199254740994', nights: 1 } })
    const created = await api('/api/runs', { task: 'booking', args: { room: BIG, from: 1, to: 2 } })
    expect(created.status).toBe(201)
    const run = (await created.json()) as Run
    expect(run.args).toEqual({ room: BIG, from: 1, to: 2, late: false })
    const refused = await errorOf(await api('/api/runs', { task: 'booking', args: { room: 2 ** 53 + 2, from: 1, to: 2 } }))
    expect(refused.fields).toMatchObject([{ key: 'room', expected: 'int64 from -2^63 to 2^63-1 (beyond 2^53 as a decimal string)' }])
  })
})

describe('the admin task form', () => {
  it('shows a field issue beside its field and a whole-arguments one above the form (400); runs nothing', async () => {
    await session.page('/admin/task/booking')
    const before = (await engine.listRuns()).total
    const response = await session.post('/admin/task/booking/run', { _csrf: session.csrf, room: BIG, from: '5', to: '2', late: ['false', 'true'] })
    expect(response.status).toBe(400)
    const html = await response.text()
    const field = (key: string): string => /<div class="field( invalid)?" data-field="([^"]+)">([\s\S]*?)<\/div>\s*(?=<div class="field|<details)/.exec(html.slice(html.indexOf(`data-field="${key}"`) - 30))?.[0] ?? ''
    expect(field('to')).toContain('field invalid')
    expect(text(field('to'))).toContain('must be after from')
    expect(field('from')).not.toContain('invalid')
    const top = /<div class="notice notice-bad" role="alert" id="form-issues">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? ''
    expect(text(top)).toBe('Some values are invalid; see the fields below.')
    // The values typed are kept, the int64 exactly.
    expect(html).toContain(`value="${BIG}"`)

    const whole = await session.post('/admin/task/booking/run', { _csrf: session.csrf, room: '7', from: '1', to: '9', late: ['false', 'true'] })
    expect(whole.status).toBe(400)
    const wholeHtml = await whole.text()
    const wholeTop = /<div class="notice notice-bad" role="alert" id="form-issues">([\s\S]*?)<\/div>/.exec(wholeHtml)?.[1] ?? ''
    expect(text(wholeTop)).toBe('The values are invalid. a late booking lasts at most 2 days')
    expect(wholeHtml).not.toContain('field invalid')
    expect((await engine.listRuns()).total).toBe(before)
  })

  it('offers an int64 field as a numeric text input (a number input would round it), and runs it exactly', async () => {
    const page = await session.page('/admin/task/booking')
    expect(page).toMatch(/<input type="text" id="f-room" name="room" value="" required="" inputmode="numeric" pattern="\[\+\\-\]\?\[0-9\]\+"/)
    const response = await session.post('/admin/task/booking/run', { _csrf: session.csrf, room: BIG, from: '1', to: '3', late: 'false' })
    expect(response.status).toBe(200)
    expect(text(await response.text())).toContain('"next": "9007199254740994"')
  })
})
