/**
 * The CLI in the audit trail: every command that changes something leaves one entry by `cli`
 * with its action, target and values; `taskengine audit` lists them newest first, filtered, as
 * a table or JSON, paging with --before.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, defineTask, type Engine } from '../../src/index.js'
import type { AuditEntry, AuditPage } from '../../src/store/types.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { VERSION } from '../../src/version.js'
import { FIXTURES, runInProcess } from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-cli-audit-'))
const store = join(dir, 'audit.db')
const tasks = join(FIXTURES, 'scheduled-tasks.mjs')
// The fixture's task, for enqueueing without the CLI (no audit entry).
const report = defineTask({ key: 'report', fields: [{ key: 'scope', type: 'string', default: 'all' }], run: () => 'done' })

let engine: Engine
beforeAll(async () => {
  engine = createEngine({ tasks: [report], store: sqliteStore(store) })
  await engine.listRuns({ pageSize: 1 })
})
afterAll(async () => {
  await engine.close()
  rmSync(dir, { recursive: true, force: true })
})

async function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runInProcess([...args, '--store', store], { env: { USER: 'ada' } })
}

/** Runs the CLI command (which must succeed) and returns the one audit entry it added. */
async function recorded(args: readonly string[]): Promise<AuditEntry> {
  const before = (await engine.audit.list({ limit: 1 })).entries[0]?.id
  const result = await cli(args)
  expect(result.code, result.stderr).toBe(0)
  const { entries } = await engine.audit.list({ limit: 10 })
  const added = before === undefined ? entries : entries.slice(0, entries.findIndex((e) => e.id === before))
  expect(added, args.join(' ')).toHaveLength(1)
  expect(added[0]).toMatchObject({ actor: 'cli', actorKind: 'cli', via: 'cli', address: `ada@${hostname()}`, userAgent: `taskengine/${VERSION}`, tokenName: null })
  return added[0]!
}

describe('audit entries of CLI actions', () => {
  it('enqueue, runs cancel|retry|delete and the --all bulk form', async () => {
    const enqueued = await recorded(['enqueue', 'report', '--scope', 'eu', '--tasks', tasks])
    expect(enqueued).toMatchObject({ action: 'run.enqueue', details: { task: 'report', args: { scope: 'eu' }, options: { createdBy: 'ada' } } })
    const id = enqueued.target!
    expect((await engine.getRun(id))?.createdBy).toBe('ada')
    expect(await recorded(['runs', 'cancel', id])).toMatchObject({ action: 'run.cancel', target: id, before: { status: 'pending' }, after: { status: 'cancelled' }, details: { task: 'report', reason: 'cancelled from the command line' } })
    expect(await recorded(['runs', 'retry', id])).toMatchObject({ action: 'run.retry', target: id, before: { status: 'cancelled' }, after: { status: 'pending' } })
    expect(await recorded(['runs', 'delete', id])).toMatchObject({ action: 'run.delete', target: id, before: { status: 'pending' } })

    await engine.enqueueMany(report, [{}, {}, {}], { delayMs: 600_000 })
    const bulk = await recorded(['runs', 'cancel', '--task', 'report', '--status', 'pending', '--all', '--yes'])
    expect(bulk).toMatchObject({ action: 'bulk.cancel', details: { filter: { task: 'report', status: ['pending'] }, count: 3 } })
    expect((await engine.bulk.get(bulk.target!))?.total).toBe(3)
  })

  it('schedules toggle and trigger, settings set', async () => {
    expect(await recorded(['schedules', 'toggle', 'weekday-report', 'off', '--tasks', tasks])).toMatchObject({ action: 'schedule.toggle', target: 'weekday-report', before: { enabled: true }, after: { enabled: false } })
    expect(await recorded(['schedules', 'toggle', 'weekday-report', 'on', '--tasks', tasks])).toMatchObject({ action: 'schedule.toggle', before: { enabled: false }, after: { enabled: true } })
    const trigger = await recorded(['schedules', 'trigger', 'weekday-report', '--tasks', tasks])
    expect(trigger).toMatchObject({ action: 'schedule.trigger', target: 'weekday-report', details: { task: 'report' } })
    expect((await engine.getRun((trigger.details as { run: string }).run))?.task).toBe('report')
    const before = (await engine.settings.get()).runRetentionDays
    expect(await recorded(['settings', 'set', 'runRetentionDays=9'])).toMatchObject({ action: 'settings.update', target: 'settings', before: { runRetentionDays: before }, after: { runRetentionDays: 9 } })
  })

  it('workers quiet|resume|stop, queues set and tasks set', async () => {
    const now = Date.now()
    await (await engine.store()).saveWorker({ id: 'w-audit', host: 'far', pid: 7, concurrency: 4, busy: 0, queues: ['default'], tasks: ['report'], running: [], startedAt: now, heartbeatAt: now, observer: false })
    for (const command of ['quiet', 'resume', 'stop'] as const) {
      expect(await recorded(['workers', command, 'w-audit'])).toMatchObject({ action: `worker.${command}`, target: 'w-audit' })
    }
    expect(await recorded(['queues', 'set', 'default', '--pause', '--tasks', tasks])).toMatchObject({ action: 'queue.pause', target: 'default', after: { paused: true } })
    expect(await recorded(['queues', 'set', 'default', '--concurrency', '3', '--tasks', tasks])).toMatchObject({ action: 'queue.limits', target: 'default', before: { paused: true }, after: { concurrency: 3 } })
    expect(await recorded(['tasks', 'set', 'report', '--concurrency', '2', '--tasks', tasks])).toMatchObject({ action: 'task.limits', target: 'report', after: { concurrency: 2 } })
  })
})

describe('taskengine audit', () => {
  it('lists the entries newest first as a table, filtered by actor, action (or prefix), target and time', async () => {
    const all = (await engine.audit.list({ limit: 1000 })).entries
    expect(all.length).toBeGreaterThan(10)
    const table = await cli(['audit'])
    expect(table.code, table.stderr).toBe(0)
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^WHEN \(UTC\)\s+WHO\s+VIA\s+ACTION\s+TARGET\s+CHANGE$/)
    expect(lines[1]).toMatch(new RegExp(`^\\S+ \\S+\\s+cli\\s+cli ada@${hostname()}\\s+${all[0]!.action.replace('.', '\\.')}\\s`))
    expect(table.stdout).toMatch(/schedule\.toggle\s+weekday-report\s+enabled: false → true\n/)

    const runs = JSON.parse((await cli(['audit', '--action', 'run.', '--json'])).stdout) as AuditPage
    expect(runs.entries.map((e) => e.action)).toEqual(['run.delete', 'run.retry', 'run.cancel', 'run.enqueue'])
    expect(runs.next).toBeNull()
    const cancels = JSON.parse((await cli(['audit', '--action', 'run.cancel', '--json'])).stdout) as AuditPage
    expect(cancels.entries).toHaveLength(1)
    const target = cancels.entries[0]!.target!
    const byTarget = JSON.parse((await cli(['audit', '--target', target, '--json'])).stdout) as AuditPage
    expect(byTarget.entries.map((e) => e.action)).toEqual(['run.delete', 'run.retry', 'run.cancel', 'run.enqueue'])
    expect(JSON.parse((await cli(['audit', '--actor', 'oncall', '--json'])).stdout)).toEqual({ entries: [], next: null })
    expect((await cli(['audit', '--actor', 'oncall'])).stdout).toBe('no audit entries\n')

    const middle = all[Math.floor(all.length / 2)]!.at
    const from = JSON.parse((await cli(['audit', '--from', middle.toISOString(), '--limit', '1000', '--json'])).stdout) as AuditPage
    expect(from.entries.length).toBe(all.filter((e) => e.at >= middle).length)
    const to = JSON.parse((await cli(['audit', '--to', middle.toISOString(), '--limit', '1000', '--json'])).stdout) as AuditPage
    expect(to.entries.length).toBe(all.filter((e) => e.at < middle).length)
  })

  it('pages with --limit and --before, printing the hint while there are more', async () => {
    const all = (await engine.audit.list({ limit: 1000 })).entries
    const first = await cli(['audit', '--limit', '3'])
    const next = all[2]!.id
    expect(first.stdout.trimEnd().split('\n')).toHaveLength(5)
    expect(first.stdout).toContain(`\nmore: add --before ${next}\n`)
    const seen: string[] = []
    let before: string | null = null
    do {
      const page = JSON.parse((await cli(['audit', '--limit', '4', '--json', ...(before === null ? [] : ['--before', before])])).stdout) as AuditPage
      seen.push(...page.entries.map((e) => e.id))
      before = page.next
    } while (before !== null)
    expect(seen).toEqual(all.map((e) => e.id))
    const last = await cli(['audit', '--limit', '1000'])
    expect(last.stdout).not.toContain('more:')
  })

  it('refuses bad flags, naming them', async () => {
    for (const [args, message] of [
      [['--from', 'yesterday'], '--from: expected an ISO 8601 time'],
      [['--to', ''], '--to: expected an ISO 8601 time'],
      [['--limit', '0'], '--limit: expected an integer from 1 to 1000, got "0"'],
      [['--limit', '5000'], '--limit: expected an integer from 1 to 1000, got "5000"'],
    ] as const) {
      const result = await cli(['audit', ...args])
      expect(result.code).toBe(2)
      expect(result.stderr).toContain(`taskengine: ${message}`)
    }
  })
})
