/** The HTTP API's bulk actions: preview, start, poll and cancel a job over a filter; bad requests answered with a 400 naming each problem. */
import { describe, expect, it, vi } from 'vitest'
import type { BulkJob, Run, RunPage } from '../../src/store/types.js'
import type { AuthResolver } from '../../src/server/index.js'
import { apiHarness, body, greet, hang } from '../helpers/api.js'

const { setup } = apiHarness()

type Issue = { key: string; message: string }
const errorOf = async (response: Response) => (await body<{ error: { code: string; message: string; fields: Issue[] } }>(response)).error

describe('bulk actions over a filter', () => {
  it('previews with dryRun, then cancels every match in a job it reports by id; runs enqueued after are left alone', async () => {
    const { engine, call } = setup()
    const pending = await engine.enqueueMany(greet, Array.from({ length: 30 }, (_, i) => ({ name: String(i) })), { delayMs: 60_000 })
    const other = await engine.enqueue(hang, {}, { delayMs: 60_000 })
    const dry = await call('/api/runs/bulk', { method: 'POST', json: { action: 'cancel', filter: { task: 'greet', status: 'pending' }, dryRun: true } })
    expect(dry.status).toBe(200)
    const preview = await body<{ dryRun: boolean; count: number; sample: Run[] }>(dry)
    expect(preview).toMatchObject({ dryRun: true, count: 30 })
    expect(preview.sample).toHaveLength(10)
    expect((await engine.listRuns({ status: 'cancelled' })).total).toBe(0)
    const started = await call('/api/runs/bulk', { method: 'POST', json: { action: 'cancel', filter: { task: 'greet', status: ['pending'] } } })
    expect(started.status).toBe(202)
    const { id, count } = await body<{ id: string; count: number; job: BulkJob }>(started)
    expect(count).toBe(30)
    const later = await engine.enqueue(greet, { name: 'later' }, { delayMs: 60_000 })
    let job: BulkJob | undefined
    await vi.waitFor(async () => {
      job = await body<BulkJob>(await call(`/api/runs/bulk/${id}`))
      expect(job.state).toBe('finished')
    })
    expect(job).toMatchObject({ total: 30, done: 30, skipped: 0, createdBy: 'local', filter: { task: 'greet', status: ['pending'] } })
    for (const run of pending) expect((await engine.getRun(run.id))?.status).toBe('cancelled')
    expect((await engine.getRun(later.id))?.status).toBe('pending')
    expect((await engine.getRun(other.id))?.status).toBe('pending')
    const listed = await body<BulkJob[]>(await call('/api/runs/bulk'))
    expect(listed.map((j) => j.id)).toEqual([id])
    expect((await (await call('/api/runs/bulk?format=csv')).text()).split(/\r?\n/)[0]).toMatch(/^id,action,state,total,done,skipped,createdBy,createdAt,finishedAt,error,/)
    expect((await body<BulkJob>(await call(`/api/runs/bulk/${id}/cancel`, { method: 'POST' }))).state).toBe('finished')
    expect((await call('/api/runs/bulk/missing')).status).toBe(404)
  })

  it('answers a bad request with one 400 naming every problem, and changes nothing', async () => {
    const { engine, call } = setup()
    await engine.enqueue(greet, { name: 'x' }, { delayMs: 60_000 })
    const cases: [unknown, string[]][] = [
      [{ action: 'archive', filter: {} }, ['action']],
      [{ action: 'cancel' }, ['filter']],
      [{ action: 'cancel', filter: {}, dryRun: 'yes', extra: 1 }, ['extra', 'dryRun']],
      [{ action: 'cancel', filter: { status: 'bogus', stauts: 'pending', from: 'yesterday' } }, ['filter.status', 'filter.from', 'filter.stauts']],
      [{ action: 'cancel', filter: { task: 3, queue: [] } }, ['filter.task', 'filter.queue']],
      [{ action: 'cancel', filter: { page: '2' } }, ['filter.page']],
      [{ action: 'cancel', filter: [] }, ['filter']],
    ]
    for (const [json, keys] of cases) {
      const response = await call('/api/runs/bulk', { method: 'POST', json })
      expect(response.status, JSON.stringify(json)).toBe(400)
      expect((await errorOf(response)).fields.map((f) => f.key), JSON.stringify(json)).toEqual(keys)
    }
    const bogus = await errorOf(await call('/api/runs/bulk', { method: 'POST', json: { action: 'cancel', filter: { status: 'bogus' } } }))
    expect(bogus.message).toMatch(/^invalid filter: filter\.status: expected pending, running, waiting, succeeded, failed, cancelled/)
    expect((await call('/api/runs/bulk', { method: 'POST', body: '{"action":', headers: { 'content-type': 'application/json' } })).status).toBe(400)
    expect((await engine.listRuns({ status: 'pending' })).total).toBe(1)
    expect(await engine.bulk.list()).toEqual([])
  })

  it('acts on every run the caller may see with an explicit empty filter; needs runs:write', async () => {
    const users: Record<string, { id: string; permissions: ('runs:read' | 'runs:read:own' | 'runs:write')[] }> = {
      ada: { id: 'ada', permissions: ['runs:read:own', 'runs:write'] },
      viewer: { id: 'viewer', permissions: ['runs:read'] },
    }
    const auth: AuthResolver = (request) => users[request.headers.get('x-user') ?? ''] ?? null
    const { engine, call } = setup({ auth })
    const as = (user: string) => ({ headers: { 'x-user': user } })
    const adas = await engine.enqueue(greet, { name: 'a' }, { delayMs: 60_000, createdBy: 'ada' })
    const others = await engine.enqueue(hang, {}, { delayMs: 60_000 })
    const refused = await call('/api/runs/bulk', { method: 'POST', json: { action: 'delete', filter: {} }, ...as('viewer') })
    expect(refused.status).toBe(403)
    const started = await call('/api/runs/bulk', { method: 'POST', json: { action: 'delete', filter: {} }, ...as('ada') })
    expect(started.status).toBe(202)
    const { id, count } = await body<{ id: string; count: number }>(started)
    expect(count).toBe(1)
    await vi.waitFor(async () => expect((await body<BulkJob>(await call(`/api/runs/bulk/${id}`, as('ada')))).state).toBe('finished'))
    expect(await engine.getRun(adas.id)).toBeUndefined()
    expect(await engine.getRun(others.id)).toBeDefined()
    // A caller who reads every run sees every job.
    expect((await call(`/api/runs/bulk/${id}`, as('viewer'))).status).toBe(200)
  })

  it('sorts the runs list by the keys it takes and refuses others', async () => {
    const { engine, call } = setup()
    const late = await engine.enqueue(greet, { name: 'late' }, { delayMs: 90_000 })
    const soon = await engine.enqueue(greet, { name: 'soon' }, { delayMs: 30_000 })
    const ids = async (query: string) => (await body<RunPage>(await call(`/api/runs?${query}`))).data.map((r) => r.id)
    expect(await ids('sort=due')).toEqual([soon.id, late.id])
    expect(await ids('sort=-due')).toEqual([late.id, soon.id])
    expect(await ids('sort=created')).toEqual([late.id, soon.id])
    expect(await ids('')).toEqual([soon.id, late.id])
    const bad = await call('/api/runs?sort=duration')
    expect(bad.status).toBe(400)
    expect((await errorOf(bad)).message).toBe('invalid query: sort: expected one of -created, created, due, -due, finished, -finished, got "duration" (string)')
  })
})
