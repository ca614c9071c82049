/**
 * Runtime settings (validated, shared through the store, applied live), log backends (the store,
 * files, custom ones) and the retention task, on real SQLite files.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { RETENTION_ID, ValidationError, createEngine, defineTask, filesLogBackend, type Engine, type EngineOptions, type LogBackend, type RetentionReport } from '../src/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-settings-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const dbFile = (): string => join(dir, `settings-${++n}.db`)

const engines: Engine[] = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close({ graceMs: 0 })))
})

function engineWith(options: EngineOptions = {}): Engine {
  const engine = createEngine({ pollIntervalMs: 20, onError: () => undefined, ...options })
  engines.push(engine)
  return engine
}

const chatty = defineTask({
  key: 'chatty',
  fields: [
    { key: 'lines', type: 'int', default: 3 },
    { key: 'artifact', type: 'bool' },
  ],
  run: async (ctx) => {
    for (let i = 1; i <= ctx.args.lines; i++) ctx.log(`line ${i}`)
    if (ctx.args.artifact) await ctx.artifact('out.txt', 'x', 'text/plain')
    return ctx.args.lines
  },
})

describe('settings', () => {
  it('has defaults, validates changes naming each bad key, and changes nothing on error', async () => {
    const engine = engineWith({ defaultMaxAttempts: 4 })
    expect(await engine.settings.get()).toEqual({ workerConcurrency: null, runRetentionDays: 30, logRetentionDays: 14, defaultMaxAttempts: 4, logBackend: 'store', rollupRetentionDays: 7, auditRetentionDays: 365 })
    const error = await engine.settings.update({ workerConcurrency: 0, runRetentionDays: 1.5, logBackend: 'ftp', colour: 'red' } as never).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as Error).message).toBe(
      'invalid settings: workerConcurrency: expected an integer from 1 to 10000 or null, got 0 (number); runRetentionDays: expected an integer from 0 to 36500, got 1.5 (number); ' +
        'logBackend: expected one of store, got "ftp" (string); colour: unknown setting (known: workerConcurrency, runRetentionDays, logRetentionDays, defaultMaxAttempts, logBackend, rollupRetentionDays, auditRetentionDays)',
    )
    // Every bad key in fields, as every other validation error lists them.
    expect((error as ValidationError).fields).toEqual([
      { key: 'workerConcurrency', expected: 'an integer from 1 to 10000 or null', received: '0 (number)', message: 'workerConcurrency: expected an integer from 1 to 10000 or null, got 0 (number)' },
      { key: 'runRetentionDays', expected: 'an integer from 0 to 36500', received: '1.5 (number)', message: 'runRetentionDays: expected an integer from 0 to 36500, got 1.5 (number)' },
      { key: 'logBackend', expected: 'one of store', received: '"ftp" (string)', message: 'logBackend: expected one of store, got "ftp" (string)' },
      {
        key: 'colour',
        expected: 'a known setting (workerConcurrency, runRetentionDays, logRetentionDays, defaultMaxAttempts, logBackend, rollupRetentionDays, auditRetentionDays)',
        received: '"red" (string)',
        message: 'colour: unknown setting (known: workerConcurrency, runRetentionDays, logRetentionDays, defaultMaxAttempts, logBackend, rollupRetentionDays, auditRetentionDays)',
      },
    ])
    const notAnObject = await engine.settings.update([1] as never).catch((e: unknown) => e)
    expect((notAnObject as Error).message).toBe('invalid settings: settings: expected an object of settings, got [1] (array)')
    expect((notAnObject as ValidationError).fields).toEqual([{ key: 'settings', expected: 'an object of settings', received: '[1] (array)', message: 'settings: expected an object of settings, got [1] (array)' }])
    await expect(engine.settings.update({ runRetentionDays: 7, defaultMaxAttempts: 'x' } as never)).rejects.toThrow(/defaultMaxAttempts/)
    expect((await engine.settings.get()).runRetentionDays).toBe(30)
    expect(await engine.settings.update({ runRetentionDays: 7, workerConcurrency: 5 })).toMatchObject({ runRetentionDays: 7, workerConcurrency: 5 })
    const described = await engine.settings.describe()
    expect(described.find((s) => s.key === 'workerConcurrency')).toMatchObject({ type: 'int', min: 1, nullable: true, value: 5, default: null })
    expect(described.find((s) => s.key === 'logBackend')).toMatchObject({ type: 'choice', choices: [{ value: 'store' }] })
  })

  it('is shared by every engine on the store, and sets the default attempts of new runs', async () => {
    const file = dbFile()
    const a = engineWith({ tasks: [chatty], store: sqliteStore(file) })
    const b = engineWith({ tasks: [chatty], store: sqliteStore(file) })
    await a.settings.update({ defaultMaxAttempts: 9 })
    expect((await b.settings.get()).defaultMaxAttempts).toBe(9)
    expect((await b.enqueue(chatty, {})).maxAttempts).toBe(9)
  })

  it('applies worker concurrency to a running worker without a restart, and back', async () => {
    let active = 0
    let peak = 0
    let release: () => void = () => undefined
    let gate = new Promise<void>((r) => (release = r))
    const held = defineTask({
      key: 'held',
      run: async () => {
        active++
        peak = Math.max(peak, active)
        await gate
        active--
      },
    })
    const engine = engineWith({ tasks: [held] })
    await engine.start({ concurrency: 2, prefetch: 0 })
    await engine.enqueueMany(held, Array.from({ length: 10 }, () => ({})))
    await vi.waitFor(() => expect(active).toBe(2))
    await engine.settings.update({ workerConcurrency: 5 })
    await vi.waitFor(() => expect(active).toBe(5))
    // Operators see it too (the worker row is saved within a second).
    await vi.waitFor(async () => expect((await engine.workers())[0]?.concurrency).toBe(5), { timeout: 3000 })
    release()
    gate = new Promise<void>((r) => (release = r))
    await engine.settings.update({ workerConcurrency: null })
    await vi.waitFor(async () => expect((await engine.listRuns({ status: 'succeeded' })).total).toBeGreaterThanOrEqual(5))
    await vi.waitFor(() => expect(active).toBe(2))
    expect(peak).toBe(5)
    release()
  })
})

describe('log backends', () => {
  it('writes log lines to files when chosen, reads them back, and keeps older store lines readable', async () => {
    const logs = join(dir, `logs-${++n}`)
    const engine = engineWith({ tasks: [chatty], logBackends: [filesLogBackend({ dir: logs })] })
    expect(engine.logBackends().map((b) => b.name)).toEqual(['store', 'files'])
    await engine.start()
    const inStore = await engine.enqueue(chatty, { lines: 2 })
    await vi.waitFor(async () => expect((await engine.getRun(inStore.id))?.status).toBe('succeeded'))
    await engine.settings.update({ logBackend: 'files' })
    const inFiles = await engine.enqueue(chatty, { lines: 3 })
    await vi.waitFor(async () => expect((await engine.getRun(inFiles.id))?.status).toBe('succeeded'))
    expect(readdirSync(logs)).toEqual([`${inFiles.id}.jsonl`])
    expect(readFileSync(join(logs, `${inFiles.id}.jsonl`), 'utf8').split('\n').filter(Boolean)).toHaveLength(3)
    expect((await engine.getLogs(inFiles.id)).map((l) => l.message)).toEqual(['line 1', 'line 2', 'line 3'])
    expect((await engine.getLogs(inFiles.id, { after: 1, limit: 1 })).map((l) => l.seq)).toEqual([2])
    expect((await engine.getRun(inFiles.id))?.logCount).toBe(3)
    // Lines written to the store before the switch stay readable.
    expect((await engine.getLogs(inStore.id)).map((l) => l.message)).toEqual(['line 1', 'line 2'])
    expect(await (await engine.store()).getLogs(inFiles.id, 0, 10)).toEqual([])
  })

  it('takes custom backends, refusing malformed ones and duplicate names', () => {
    const engine = engineWith()
    const memory: LogBackend = { name: 'memory', title: 'Memory', description: 'for tests', append: async () => undefined, read: async () => [], remove: async () => undefined }
    engine.registerLogBackend(memory)
    expect(() => engine.registerLogBackend(memory)).toThrow(/already registered/)
    expect(() => engine.registerLogBackend({ ...memory, name: 'store' })).toThrow(/built-in/)
    expect(() => engine.registerLogBackend({ ...memory, name: 'x', read: undefined } as never)).toThrow(/read must be a function/)
    expect(() => filesLogBackend({ dir: '' })).toThrow(/dir must be a directory path/)
  })

  it('never turns a run id into a path outside the directory', async () => {
    const backend = filesLogBackend({ dir: join(dir, 'safe') })
    await expect(backend.read('../../etc/passwd', 0, 10)).rejects.toThrow(/not a valid id/)
  })
})

describe('retention', () => {
  it('deletes finished runs older than the setting with logs and artifacts, and old log lines, reporting progress', async () => {
    let now = Date.UTC(2026, 0, 1)
    const logs = join(dir, `retention-logs-${++n}`)
    // One run per transaction, so progress shows each step.
    const engine = engineWith({ tasks: [chatty], clock: () => now, logBackends: [filesLogBackend({ dir: logs })], retention: { batchSize: 1 } })
    const percents: number[] = []
    engine.subscribe((event) => {
      if (event.type === 'progress') percents.push(event.progress.percent ?? -1)
    }, { task: RETENTION_ID })
    await engine.start()
    const finish = async (lines = 2, artifact = false): Promise<string> => {
      const run = await engine.enqueue(chatty, { lines, artifact })
      await vi.waitFor(async () => expect((await engine.getRun(run.id))?.status).toBe('succeeded'))
      return run.id
    }
    const veryOld = await finish(2, true) // 1 Jan: gone after 30 days
    expect((await engine.listArtifacts(veryOld)).map((a) => a.name)).toEqual(['out.txt'])
    const pool = engine.pool({ label: 'old batch' })
    await pool.add(chatty, { lines: 0 })
    await pool.wait()
    await engine.settings.update({ logBackend: 'files' })
    const oldInFiles = await finish()
    utimesSync(join(logs, `${oldInFiles}.jsonl`), new Date(now), new Date(now))
    await engine.settings.update({ logBackend: 'store' })
    now += 20 * 86_400_000 // 21 Jan: kept, but its logs go after 14 days
    const middle = await finish()
    now += 15 * 86_400_000 // 5 Feb
    const fresh = await finish()
    const pending = await engine.enqueue(chatty, {}, { runAt: now + 86_400_000 })

    const retention = await engine.enqueue(RETENTION_ID, {})
    let done = retention
    await vi.waitFor(async () => {
      done = (await engine.getRun(retention.id))!
      expect(done.status).toBe('succeeded')
    })
    expect(done.data as RetentionReport).toMatchObject({ runsDeleted: 3, logLinesDeleted: 2, poolsDeleted: 1, logFilesDeleted: 0, runsBefore: '2026-01-06T00:00:00.000Z', logsBefore: '2026-01-22T00:00:00.000Z' })
    expect(done.progress).toMatchObject({ percent: 100 })
    // Three runs and two lines of a kept run to delete, one run per batch: 20, 40, 60 … 100.
    expect(percents.slice(0, 3)).toEqual([20, 40, 60])
    expect(percents.at(-1)).toBe(100)
    expect(percents.every((p, i) => i === 0 || p >= percents[i - 1]!)).toBe(true)
    expect(await engine.getPool(pool.id)).toBeUndefined()
    expect((await engine.getLogs(retention.id)).map((l) => l.message)).toContain('3 runs deleted, 1 pool')
    expect(await engine.getRun(veryOld)).toBeUndefined()
    expect(await engine.getRun(oldInFiles)).toBeUndefined()
    expect(readdirSync(logs)).toEqual([])
    expect(await (await engine.store()).listArtifacts(veryOld)).toEqual([])
    expect((await engine.getRun(middle))?.status).toBe('succeeded')
    expect(await engine.getLogs(middle)).toEqual([])
    expect((await engine.getLogs(fresh)).map((l) => l.message)).toEqual(['line 1', 'line 2'])
    expect((await engine.getRun(pending.id))?.status).toBe('pending')
    // Off means off.
    await engine.settings.update({ runRetentionDays: 0, logRetentionDays: 0 })
    const idle = await engine.enqueue(RETENTION_ID, {})
    await vi.waitFor(async () => expect((await engine.getRun(idle.id))?.data).toMatchObject({ runsDeleted: 0, logLinesDeleted: 0, poolsDeleted: 0, runsBefore: null }))
    expect((await engine.getRun(middle))?.status).toBe('succeeded')
  })

  it('deletes bulk jobs that ended before the run retention cut-off, never a running one', async () => {
    let now = Date.UTC(2026, 0, 1)
    const engine = engineWith({ tasks: [chatty], clock: () => now })
    const store = await engine.store()
    await engine.start()
    const run = await engine.enqueue(chatty, {}, { runAt: now + 365 * 86_400_000 })
    const ended = async (): Promise<string> => {
      const job = await engine.bulk.start('cancel', { task: 'nothing-matches' })
      await vi.waitFor(async () => expect((await engine.bulk.get(job.id))?.state).toBe('finished'))
      return job.id
    }
    const old = await ended()
    // Running for as long as anyone can remember: an engine may still be working through it.
    const running = await store.insertBulkJob({ id: `0-running-${n}`, action: 'retry', filter: {}, upTo: run.id, total: 1, createdBy: null, now })
    now += 20 * 86_400_000
    const recent = await ended()
    now += 15 * 86_400_000
    const retention = await engine.enqueue(RETENTION_ID, {})
    await vi.waitFor(async () => expect((await engine.getRun(retention.id))?.status).toBe('succeeded'))
    expect(await engine.bulk.get(old)).toBeUndefined()
    expect((await engine.bulk.get(recent))?.state).toBe('finished')
    expect((await engine.bulk.get(running.id))?.state).toBe('running')
    expect((await engine.getLogs(retention.id)).map((l) => l.message)).toContain('1 bulk job ended before 2026-01-06T00:00:00.000Z deleted')
  })

  it('deletes per-minute rollups older than rollupRetentionDays, and keeps them all at 0', async () => {
    let now = Date.UTC(2026, 0, 1)
    const engine = engineWith({ tasks: [chatty], clock: () => now })
    const store = await engine.store()
    await engine.start()
    const finishAndFold = async (): Promise<void> => {
      const run = await engine.enqueue(chatty, { lines: 0 })
      await vi.waitFor(async () => expect((await engine.getRun(run.id))?.status).toBe('succeeded'))
      await store.foldRollups(now + 120_000, now - 86_400_000, 3_600_000)
    }
    const retain = async (): Promise<string[]> => {
      const run = await engine.enqueue(RETENTION_ID, {})
      await vi.waitFor(async () => expect((await engine.getRun(run.id))?.status).toBe('succeeded'))
      return (await engine.getLogs(run.id)).map((l) => l.message)
    }
    const folded = async (): Promise<number> => {
      const report = await store.readRollups({ since: Date.UTC(2025, 11, 31), until: Date.UTC(2026, 0, 1, 0, 2), bucketMs: 60_000 })
      return report.buckets.reduce((n, b) => n + b.succeeded, 0)
    }
    await finishAndFold()
    now += 10 * 86_400_000
    await finishAndFold()
    await engine.settings.update({ rollupRetentionDays: 0 })
    expect((await retain()).join('\n')).not.toContain('rollup rows')
    expect(await folded()).toBe(1)
    await engine.settings.update({ rollupRetentionDays: 7 })
    expect(await retain()).toContain('1 rollup rows older than 7 days deleted')
    expect(await folded()).toBe(0)
    expect((await engine.history({ range: '1h' })).succeeded).toBeGreaterThanOrEqual(1)
    await expect(engine.settings.update({ rollupRetentionDays: -1 })).rejects.toThrow('rollupRetentionDays: expected an integer from 0 to 36500, got -1 (number)')
  })

  it('deletes audit entries older than auditRetentionDays and ended sessions, and keeps every entry at 0', async () => {
    let now = Date.UTC(2026, 0, 1)
    const engine = engineWith({ clock: () => now })
    await engine.start()
    const by = { id: 'cli', kind: 'cli', via: 'cli' } as const
    const retain = async (): Promise<string[]> => {
      const run = await engine.enqueue(RETENTION_ID, {})
      await vi.waitFor(async () => expect((await engine.getRun(run.id))?.status).toBe('succeeded'))
      return (await engine.getLogs(run.id)).map((l) => l.message)
    }
    await engine.audit.record(by, { action: 'run.cancel', target: 'old' })
    await engine.users.add('ops', { role: 'viewer', by })
    now += 400 * 86_400_000
    await engine.audit.record(by, { action: 'run.cancel', target: 'recent' })
    await engine.settings.update({ auditRetentionDays: 0 })
    expect((await retain()).join('\n')).not.toContain('audit entries')
    expect((await engine.audit.list({ action: 'run.cancel' })).entries.map((e) => e.target)).toEqual(['recent', 'old'])
    await engine.settings.update({ auditRetentionDays: 365 })
    expect(await retain()).toContain('2 audit entries older than 365 days deleted')
    expect((await engine.audit.list({ action: 'run.cancel' })).entries.map((e) => e.target)).toEqual(['recent'])
    await expect(engine.settings.update({ auditRetentionDays: 36_501 })).rejects.toThrow('auditRetentionDays: expected an integer from 0 to 36500, got 36501 (number)')
  })

  it('registers a daily retention schedule unless turned off', async () => {
    const engine = engineWith()
    expect((await engine.schedules()).map((s) => [s.id, s.cron, s.timezone, s.overlap])).toEqual([[RETENTION_ID, '15 3 * * *', 'UTC', false]])
    const custom = engineWith({ retention: { cron: '0 4 * * 0', timezone: 'Europe/Paris' } })
    expect((await custom.schedules())[0]).toMatchObject({ cron: '0 4 * * 0', timezone: 'Europe/Paris' })
    expect(() => engineWith({ retention: { batchSize: 0 } })).toThrow('retention.batchSize: expected a positive integer, got 0 (number)')
    const off = engineWith({ retention: false })
    expect(await off.schedules()).toEqual([])
    expect(off.get(RETENTION_ID)).toBeUndefined()
  })
})
