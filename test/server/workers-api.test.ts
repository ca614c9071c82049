/**
 * The workers routes in-process: quiet, resume and stop (who asked recorded), the errors (bad
 * command, unknown worker, dead worker, a body, no permission) changing nothing, the recently
 * dead workers with their held runs (JSON and CSV), and the OpenAPI entries.
 */
import { describe, expect, it, vi } from 'vitest'
import type { WorkerInfo } from '../../src/index.js'
import type { AuthResolver, Permission } from '../../src/server/index.js'
import { apiHarness, body } from '../helpers/api.js'

const { setup } = apiHarness()

/** Callers by the `x-user` header: `op` may steer workers, `viewer` may only look, `reader` also reads runs. */
const auth: AuthResolver = (request) => {
  const users: Record<string, Permission[]> = { op: ['workers:read', 'workers:write'], viewer: ['workers:read'], reader: ['runs:read', 'workers:read'] }
  const id = request.headers.get('x-user') ?? ''
  const permissions = users[id]
  return permissions === undefined ? null : { id, permissions }
}
const as = (user: string, init: RequestInit = {}): RequestInit => ({ ...init, headers: { 'x-user': user } })
const post = (user: string): RequestInit => as(user, { method: 'POST' })

describe('workers API', () => {
  it('quiets, resumes and stops a worker, recording who asked; the worker applies each', async () => {
    const { engine, call } = setup({ auth })
    await engine.start()
    const id = engine.workerId!
    const path = `/api/workers/${encodeURIComponent(id)}`
    const quiet = await call(`${path}/quiet`, post('op'))
    expect(quiet.status).toBe(200)
    expect(await body<WorkerInfo>(quiet)).toMatchObject({ id, command: { type: 'quiet', by: 'op' } })
    // Within a heartbeat (10 s by default): read at once here, the row saved within a second.
    await vi.waitFor(async () => expect((await body<WorkerInfo[]>(await call('/api/workers', as('viewer'))))[0]).toMatchObject({ state: 'quiet' }), { timeout: 3000 })
    // The overview's workers panel says so too.
    const overview = await (await call('/admin', as('reader'))).text()
    expect(overview).toMatch(/data-live-region="workers"[\s\S]*data-state="quiet"[^>]*>quiet</)
    const csv = await (await call('/api/workers?format=csv', as('viewer'))).text()
    expect(csv.split('\n')[1]).toMatch(/,quiet,quiet,op,\d{4}-/)
    expect((await body<WorkerInfo>(await call(`${path}/resume`, post('op')))).command).toMatchObject({ type: 'resume', by: 'op' })
    expect((await call(`${path}/stop`, post('op'))).status).toBe(200)
    await vi.waitFor(() => expect(engine.started).toBe(false), { timeout: 3000 })
    // Its row is gone (the server's own presence row may remain).
    expect((await body<WorkerInfo[]>(await call('/api/workers', as('viewer')))).map((w) => w.id)).not.toContain(id)
  })

  it('refuses a bad command, an unknown or dead worker, a body and a caller without workers:write, changing nothing', async () => {
    const { engine, call } = setup({ auth })
    await engine.start()
    const id = engine.workerId!
    const path = `/api/workers/${encodeURIComponent(id)}`
    const refused = async (response: Response, status: number, code: string, message: string | RegExp) => {
      expect(response.status).toBe(status)
      const { error } = await body<{ error: { code: string; message: string } }>(response)
      expect(error.code).toBe(code)
      expect(error.message).toMatch(message)
    }
    await refused(await call(`${path}/quiet`, post('viewer')), 403, 'ERR_FORBIDDEN', /workers:write/)
    await refused(await call(`${path}/pause`, post('op')), 400, 'ERR_VALIDATION', 'command: expected quiet, resume, stop, got "pause" (string)')
    await refused(await call('/api/workers/nope%3Cb%3E/stop', post('op')), 404, 'ERR_NOT_FOUND', 'unknown worker "nope<b>"')
    await refused(await call(`${path}/quiet`, { ...post('op'), headers: { 'x-user': 'op', 'content-type': 'application/json' }, body: '{"by":"me"}' }), 400, 'ERR_VALIDATION', /takes no body/)
    await refused(await call(`${path}/quiet?now=1`, post('op')), 400, 'ERR_VALIDATION', /now: unknown query parameter/)
    // A worker whose heartbeat stopped a minute ago.
    const store = await engine.store()
    const now = Date.now()
    await store.saveWorker({ id: 'dead-1', host: 'far', pid: 7, concurrency: 4, busy: 1, queues: ['mail'], tasks: ['greet'], running: ['r-gone'], startedAt: now - 120_000, heartbeatAt: now - 60_000, observer: false })
    await refused(await call('/api/workers/dead-1/stop', post('op')), 409, 'ERR_CONFLICT', /^worker "dead-1" is dead \(no heartbeat since .*\): there is nothing to stop/)
    // Nothing changed.
    expect((await store.getWorker(id))?.command).toBeNull()
    expect((await store.getWorker('dead-1'))?.command).toBeNull()
    expect(engine.started).toBe(true)
  })

  it('lists recently dead workers with the runs they held and their fate (JSON, CSV), and refuses a bad dead value', async () => {
    const { engine, call } = setup({ auth })
    const store = await engine.store()
    const done = await engine.enqueue('greet', { name: 'x' })
    await engine.delete(done.id)
    const now = Date.now()
    const row = { host: 'far', pid: 7, concurrency: 4, busy: 1, queues: null, tasks: ['greet'], startedAt: now - 120_000, observer: false }
    await store.saveWorker({ ...row, id: 'dead-1', running: [done.id, 'r-purged'], heartbeatAt: now - 60_000 })
    await store.saveWorker({ ...row, id: 'dead-long-ago', running: [], heartbeatAt: now - 2 * 86_400_000 })
    await store.saveWorker({ ...row, id: 'server', concurrency: 0, running: [], heartbeatAt: now - 60_000, observer: true })
    const dead = await body<{ id: string; heldTotal: number; held: { id: string; fate: string }[] }[]>(await call('/api/workers?dead=true', as('viewer')))
    expect(dead).toMatchObject([{ id: 'dead-1', heldTotal: 2, held: [{ id: done.id, fate: 'deleted', task: 'greet' }, { id: 'r-purged', fate: 'purged', task: null }] }])
    const csv = await (await call('/api/workers?dead=true&format=csv', as('viewer'))).text()
    expect(csv.split('\n')[0]).toBe('id,host,pid,concurrency,queues,startedAt,heartbeatAt,heldTotal,held')
    expect(csv).toContain(`${done.id}: deleted; r-purged: purged`)
    expect((await body<WorkerInfo[]>(await call('/api/workers?dead=false', as('viewer')))).map((w) => w.id)).not.toContain('dead-1')
    const bad = await call('/api/workers?dead=1', as('viewer'))
    expect(bad.status).toBe(400)
    expect((await body<{ error: { message: string } }>(bad)).error.message).toBe('invalid query: dead: expected true or false, got "1" (string)')
  })

  it('describes the routes in the OpenAPI document', async () => {
    const { call } = setup()
    const doc = await body<{ paths: Record<string, Record<string, { parameters?: { name: string }[] }>>; components: { schemas: Record<string, unknown> } }>(await call('/api/openapi.json'))
    expect(doc.paths['/api/workers']?.get?.parameters?.map((p) => p.name)).toContain('dead')
    expect(doc.paths['/api/workers/{id}/{command}']?.post?.parameters?.map((p) => p.name)).toEqual(['id', 'command'])
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['WorkerInfo', 'DeadWorker']))
  })
})
