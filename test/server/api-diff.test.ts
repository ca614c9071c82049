/**
 * `GET /api/runs/diff` in-process: two runs and two attempts compared (fields, argument and
 * result diffs, errors, the log line diff), the caller's run scope, and the 400s and 404s that
 * name the bad parameter or the missing run.
 */
import { describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Run } from '../../src/index.js'
import { createServer, type AuthResolver } from '../../src/server/index.js'
import { apiHarness, body, waitFor } from '../helpers/api.js'

const { engines, servers } = apiHarness()

/** Logs a few lines; the first attempt of `flaky: true` fails, the second succeeds. */
const report = defineTask({
  key: 'report',
  fields: [
    { key: 'region', type: 'string', required: true },
    { key: 'flaky', type: 'bool', default: false },
  ],
  maxAttempts: 2,
  backoff: { type: 'fixed', delayMs: 1 },
  run(ctx) {
    ctx.log('loading')
    ctx.log(`region ${ctx.args.region}`)
    if (ctx.args.flaky && ctx.attempt === 1) {
      ctx.log.error('upstream down')
      throw new Error('upstream down')
    }
    ctx.log('done')
    return { region: ctx.args.region, rows: 3 }
  },
})

/** Logs `lines` numbered lines, every `every`-th one marked. */
const long = defineTask({
  key: 'long',
  fields: [
    { key: 'lines', type: 'int', required: true },
    { key: 'mark', type: 'string', default: '' },
    { key: 'every', type: 'int', default: 1000 },
  ],
  run(ctx) {
    for (let i = 1; i <= ctx.args.lines; i++) ctx.log(i % ctx.args.every === 0 ? `line ${i} ${ctx.args.mark}` : `line ${i}`)
  },
})

/** Logs a line, then holds until cancelled. */
const holding = defineTask({
  key: 'holding',
  run(ctx) {
    ctx.log('holding on')
    return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)))
  },
})

type Comparison = {
  a: { runId: string; attempt: number | null; status: string; error: { message: string } | null }
  b: { runId: string; attempt: number | null; status: string; error: { message: string } | null }
  fields: { name: string; a: string | null; b: string | null; same: boolean; compared: boolean }[]
  args: { changes: { path: string; kind: string; before?: unknown; after?: unknown; truncated?: true }[]; omitted: number }
  result: { changes: { path: string; kind: string }[] }
  sameError: boolean
  logs: { chunks: ({ same: number } | { removed: string[] } | { added: string[] })[]; added: number; removed: number; truncated: boolean; approximate: boolean }
}
type ErrorBody = { error: { code: string; message: string; fields?: { key: string }[] } }

function setup(auth?: AuthResolver) {
  const engine = createEngine({ tasks: [report, long, holding], pollIntervalMs: 20 })
  engines.push(engine)
  const server = createServer(engine, { onError: () => undefined, ...(auth === undefined ? {} : { auth }) })
  servers.push(server)
  const call = (path: string, headers: Record<string, string> = {}) => server.app.request(path, { headers })
  const finished = async (args: { region: string; flaky?: boolean }, createdBy?: string): Promise<Run> => {
    const run = await engine.enqueue(report, args, createdBy === undefined ? {} : { createdBy })
    return waitFor(engine, run.id, 'succeeded')
  }
  const logged = async (args: { lines: number; mark: string; every?: number }): Promise<Run> => waitFor(engine, (await engine.enqueue(long, args)).id, 'succeeded')
  return { engine, call, finished, logged }
}

describe('GET /api/runs/diff', () => {
  it('compares two runs: differing fields, argument and result paths, and the log lines added and removed', async () => {
    const { engine, call, finished } = setup()
    await engine.start()
    const eu = await finished({ region: 'eu' })
    const us = await finished({ region: 'us', flaky: true })
    const response = await call(`/api/runs/diff?a=${eu.id}&b=${us.id}`)
    expect(response.status).toBe(200)
    const diff = await body<Comparison>(response)
    expect(diff.a).toMatchObject({ runId: eu.id, attempt: null, status: 'succeeded', error: null })
    expect(diff.args).toEqual({
      changes: [
        { path: 'region', kind: 'changed', before: 'eu', after: 'us' },
        { path: 'flaky', kind: 'changed', before: false, after: true },
      ],
      omitted: 0,
    })
    expect(diff.result.changes).toEqual([{ path: 'region', kind: 'changed', before: 'eu', after: 'us' }])
    const field = (name: string) => diff.fields.find((f) => f.name === name)
    expect(field('task')).toEqual({ name: 'task', a: 'report', b: 'report', same: true, compared: true })
    expect(field('attempt')).toEqual({ name: 'attempt', a: '1 of 2 (whole run)', b: '2 of 2 (whole run)', same: false, compared: true })
    expect(field('createdAt')).toMatchObject({ same: false, compared: false })
    // us logged its first attempt's lines, then the second's: the diff lines them up by content.
    expect(diff.logs.chunks).toEqual([
      { same: 1 },
      { removed: ['info region eu'] },
      { added: ['info region us', 'error upstream down', 'info loading', 'info region us'] },
      { same: 1 },
    ])
    expect(diff.logs).toMatchObject({ added: 4, removed: 1, truncated: false, approximate: false })
    // The admin page's data is the API's answer; every format answers (CSV flattens it), none with a 500.
    expect(await body(await call(`/admin/runs/diff?a=${eu.id}&b=${us.id}&format=json`))).toEqual(diff)
    for (const format of ['csv', 'xml', 'yaml']) expect((await call(`/admin/runs/diff?a=${eu.id}&b=${us.id}&format=${format}`)).status, format).toBe(200)
    expect((await call(`/api/runs/diff?a=${eu.id}&b=${us.id}&format=yaml`)).status).toBe(200)
  })

  it('compares two attempts of one run: outcomes, errors and each attempt\'s own log lines', async () => {
    const { engine, call, finished } = setup()
    await engine.start()
    const run = await finished({ region: 'us', flaky: true })
    const diff = await body<Comparison>(await call(`/api/runs/diff?a=${run.id}:1&b=${run.id}:2`))
    expect(diff.a).toMatchObject({ attempt: 1, status: 'retry', error: { message: 'upstream down' } })
    expect(diff.b).toMatchObject({ attempt: 2, status: 'succeeded', error: null })
    expect(diff.sameError).toBe(false)
    expect(diff.args.changes).toEqual([])
    expect(diff.logs.chunks).toEqual([{ same: 2 }, { removed: ['error upstream down'] }, { added: ['info done'] }])
    expect(diff.fields.find((f) => f.name === 'status')).toEqual({ name: 'status', a: 'retry', b: 'succeeded', same: false, compared: true })
  })

  it('compares the attempt going on now with what it has so far', async () => {
    const { engine, call, finished } = setup()
    await engine.start()
    const done = await finished({ region: 'eu' })
    const run = await engine.enqueue(holding, {})
    // Its line stored, and its start (a claimed run's start may be stored a little after its claim).
    await vi.waitFor(async () => {
      expect((await engine.getLogs(run.id)).map((l) => l.message)).toEqual(['holding on'])
      expect((await engine.getRun(run.id))?.startedAt).not.toBeNull()
    })
    const diff = await body<Comparison>(await call(`/api/runs/diff?a=${done.id}:1&b=${run.id}:1`))
    expect(diff.b).toMatchObject({ attempt: 1, status: 'running', error: null })
    expect(diff.logs.chunks).toEqual([{ removed: ['info loading', 'info region eu', 'info done'] }, { added: ['info holding on'] }])
    const later = await call(`/api/runs/diff?a=${done.id}&b=${run.id}:2`)
    expect((await body<ErrorBody>(later)).error.message).toBe(`b: run "${run.id}" has no attempt 2 (it has attempt 1)`)
  })

  it('answers 400 naming the parameter for a missing or malformed side, or an attempt the run does not have', async () => {
    const { engine, call, finished } = setup()
    await engine.start()
    const run = await finished({ region: 'eu' })
    const missing = await call(`/api/runs/diff?a=${run.id}`)
    expect(missing.status).toBe(400)
    const missingBody = await body<ErrorBody>(missing)
    expect(missingBody.error.message).toBe('invalid run diff: b: missing, expected <run id> or <run id>:<attempt> (attempt from 1)')
    expect(missingBody.error.fields?.map((f) => f.key)).toEqual(['b'])
    const both = await body<ErrorBody>(await call(`/api/runs/diff?a=${run.id}:0&b=${run.id}:x`))
    expect(both.error.fields?.map((f) => f.key)).toEqual(['a', 'b'])
    expect(both.error.message).toContain('a: expected <run id> or <run id>:<attempt> (attempt from 1), got "' + run.id + ':0" (string) (attempts count from 1)')
    const noAttempt = await call(`/api/runs/diff?a=${run.id}&b=${run.id}:3`)
    expect(noAttempt.status).toBe(400)
    expect((await body<ErrorBody>(noAttempt)).error.message).toBe(`b: run "${run.id}" has no attempt 3 (it has attempt 1)`)
    const repeated = await call(`/api/runs/diff?a=${run.id}&a=${run.id}&b=${run.id}`)
    expect((await body<ErrorBody>(repeated)).error.message).toBe('invalid query: a: given 2 times, expected one value')
  })

  it('answers 404 naming the missing run, and hides another\'s run from an own-runs-only caller', async () => {
    const users: Record<string, { id: string; permissions: ('runs:read' | 'runs:read:own')[] }> = {
      ops: { id: 'ops', permissions: ['runs:read'] },
      ada: { id: 'ada', permissions: ['runs:read:own'] },
    }
    const auth: AuthResolver = (request) => users[request.headers.get('x-user') ?? ''] ?? null
    const { engine, call, finished } = setup(auth)
    await engine.start()
    const adas = await finished({ region: 'eu' }, 'ada')
    const bobs = await finished({ region: 'us' }, 'bob')
    const gone = await call(`/api/runs/diff?a=${adas.id}&b=nope`, { 'x-user': 'ops' })
    expect(gone.status).toBe(404)
    expect((await body<ErrorBody>(gone)).error.message).toBe('b: unknown run "nope"')
    expect((await call(`/api/runs/diff?a=${adas.id}&b=${bobs.id}`, { 'x-user': 'ops' })).status).toBe(200)
    const hidden = await call(`/api/runs/diff?a=${adas.id}&b=${bobs.id}`, { 'x-user': 'ada' })
    expect(hidden.status).toBe(404)
    expect((await body<ErrorBody>(hidden)).error.message).toBe(`b: unknown run "${bobs.id}"`)
    expect((await call(`/api/runs/diff?a=${adas.id}&b=${adas.id}`, { 'x-user': 'ada' })).status).toBe(200)
  })

  it('cuts huge values in the argument diff and says so', async () => {
    const { engine, call } = setup()
    const big = await engine.enqueue(report, { region: 'x'.repeat(5000) })
    const small = await engine.enqueue(report, { region: 'eu' })
    const diff = await body<Comparison>(await call(`/api/runs/diff?a=${small.id}&b=${big.id}`))
    const [change] = diff.args.changes
    expect(change).toMatchObject({ path: 'region', kind: 'changed', before: 'eu', truncated: true })
    expect(String(change?.after)).toMatch(/^"x{1999}… \(5,002 chars\)$/)
  })

  it('diffs logs longer than its bound on their first 10,000 lines, and the page says so', async () => {
    const { engine, call, logged } = setup()
    await engine.start()
    const a = await logged({ lines: 10_500, mark: 'a' })
    const b = await logged({ lines: 10_500, mark: 'b' })
    const diff = await body<Comparison & { logs: { compared: { a: number; b: number }; unchanged: number } }>(await call(`/api/runs/diff?a=${a.id}&b=${b.id}`))
    // Lines 1000, 2000 … 10000 differ; those past 10,000 are not compared.
    expect(diff.logs).toMatchObject({ truncated: true, approximate: false, compared: { a: 10_000, b: 10_000 }, added: 10, removed: 10, unchanged: 9_990 })
    expect(diff.fields.find((f) => f.name === 'logLines')).toMatchObject({ a: '10500', b: '10500', same: true })
    const page = await (await call(`/admin/runs/diff?a=${a.id}&b=${b.id}`, { accept: 'text/html' })).text()
    expect(page).toContain('Logs too long to diff fully: showing the first 10,000 lines of each (A has 10,500 lines, B 10,500).')
    expect(page).toContain('… 993 unchanged lines')
  })

  it('past its work bound shows the differing middle removed then added, and draws at most 2,000 changed lines', async () => {
    const { engine, call, logged } = setup()
    await engine.start()
    const a = await logged({ lines: 3000, mark: 'a', every: 1 })
    const b = await logged({ lines: 3000, mark: 'b', every: 1 })
    const diff = await body<Comparison>(await call(`/api/runs/diff?a=${a.id}&b=${b.id}`))
    expect(diff.logs).toMatchObject({ truncated: false, approximate: true, added: 3000, removed: 3000 })
    expect(diff.logs.chunks.map((c) => Object.keys(c)[0])).toEqual(['removed', 'added'])
    const page = await (await call(`/admin/runs/diff?a=${a.id}&b=${b.id}`, { accept: 'text/html' })).text()
    expect(page).toContain('Too many differences to line up within the diff')
    expect(page).toContain('… 4,000 more changed lines not shown here')
    expect(page.match(/class="line diff-(added|removed)"/g)).toHaveLength(2000)
  })
})
