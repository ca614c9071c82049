/**
 * What the CLI says, through the real binary: the status of a run in a sentence, the real range
 * of --priority, the flag name of --port, the known schedule ids, the config file names and
 * environment variables in --help, and what `runs delete` did to a running run.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Run } from '../../src/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { ROOT, runBin } from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-cli-wording-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('runs cancel and retry', () => {
  it('say "has already succeeded", "has already failed", "is already cancelled", "is pending"', async () => {
    const store = join(dir, 'finished.db')
    const ok = defineTask({ key: 'ok', run: () => 'fine' })
    const bad = defineTask({ key: 'bad', maxAttempts: 1, run: () => Promise.reject(new Error('no')) })
    const engine = createEngine({ tasks: [ok, bad], store: sqliteStore(store) })
    let succeeded: Run, failed: Run, pending: Run
    try {
      succeeded = await engine.enqueue(ok, {})
      failed = await engine.enqueue(bad, {})
      await engine.start({ concurrency: 2 })
      await vi.waitFor(async () => {
        expect((await engine.getRun(succeeded.id))?.status).toBe('succeeded')
        expect((await engine.getRun(failed.id))?.status).toBe('failed')
      })
      await engine.stop()
      pending = await engine.enqueue(ok, {}, { delayMs: 600_000 })
    } finally {
      await engine.close()
    }
    const cancelSucceeded = await runBin(['runs', 'cancel', succeeded.id, '--store', store])
    expect(cancelSucceeded.code).toBe(2)
    expect(cancelSucceeded.stderr).toBe(`taskengine: run ${succeeded.id} has already succeeded; only pending, running or waiting runs can be cancelled\n`)
    expect((await runBin(['runs', 'cancel', failed.id, '--store', store])).stderr).toBe(`taskengine: run ${failed.id} has already failed; only pending, running or waiting runs can be cancelled\n`)
    expect((await runBin(['runs', 'retry', succeeded.id, '--store', store])).stderr).toBe(`taskengine: run ${succeeded.id} has already succeeded; only failed or cancelled runs can be retried\n`)
    expect((await runBin(['runs', 'retry', pending.id, '--store', store])).stderr).toBe(`taskengine: run ${pending.id} is pending; only failed or cancelled runs can be retried\n`)
    expect((await runBin(['runs', 'cancel', pending.id, '--store', store])).stderr).toBe(`run ${pending.id}: cancelled\n`)
    expect((await runBin(['runs', 'cancel', pending.id, '--store', store])).stderr).toBe(`taskengine: run ${pending.id} is already cancelled; only pending, running or waiting runs can be cancelled\n`)
  })
})

describe('runs delete', () => {
  it('on a running run says its cancel was requested before it was deleted, and the run ends cancelled', async () => {
    const store = join(dir, 'running.db')
    let aborted: unknown
    const held = defineTask({
      key: 'held',
      run: (ctx) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => {
            aborted = ctx.signal.reason
            reject(ctx.signal.reason as Error)
          }),
        ),
    })
    const engine = createEngine({ tasks: [held], store: sqliteStore(store), leaseMs: 1500 })
    try {
      const run = await engine.enqueue(held, {})
      await engine.start({ concurrency: 1 })
      await vi.waitFor(async () => expect((await engine.getRun(run.id))?.status).toBe('running'))
      const deleted = await runBin(['runs', 'delete', run.id, '--store', store])
      expect(deleted.code).toBe(0)
      expect(deleted.stderr).toBe(`run ${run.id}: it was running: cancel requested (its handler is asked to stop, and the run ends cancelled), then deleted\n`)
      expect(JSON.parse(deleted.stdout)).toMatchObject({ id: run.id, status: 'running', cancelReason: 'deleted' })
      await vi.waitFor(() => expect(aborted).toBeDefined(), { timeout: 10_000 })
      // A deleted run is left out of lists at once; its end is read with includeDeleted.
      const after = sqliteStore(store)
      try {
        await vi.waitFor(async () => expect((await after.getRun(run.id, { includeDeleted: true }))?.status).toBe('cancelled'), { timeout: 10_000 })
      } finally {
        await after.close()
      }
    } finally {
      await engine.close()
    }
  })

  it('on a pending run says it will not execute; on a finished one, just deleted', async () => {
    const store = join(dir, 'pending.db')
    const ok = defineTask({ key: 'ok', run: () => 'fine' })
    const engine = createEngine({ tasks: [ok], store: sqliteStore(store) })
    let pending: Run, done: Run
    try {
      pending = await engine.enqueue(ok, {}, { delayMs: 600_000 })
      done = await engine.enqueue(ok, {})
      await engine.start({ concurrency: 1 })
      await vi.waitFor(async () => expect((await engine.getRun(done.id))?.status).toBe('succeeded'))
    } finally {
      await engine.close()
    }
    expect((await runBin(['runs', 'delete', pending.id, '--store', store])).stderr).toBe(`run ${pending.id}: it was pending: cancelled (it will not execute), then deleted\n`)
    expect((await runBin(['runs', 'delete', done.id, '--store', store])).stderr).toBe(`run ${done.id}: deleted\n`)
  })
})

describe('option messages', () => {
  it('--priority states the range the engine accepts (safe integers)', async () => {
    for (const value of ['1.5', '9007199254740992', 'high']) {
      const { code, stderr } = await runBin(['enqueue', 'hello', '--priority', value, '--store', join(dir, 'priority.db')])
      expect(code).toBe(2)
      expect(stderr).toBe(`taskengine: --priority: expected an integer from -9007199254740991 to 9007199254740991, got "${value}" (string)\n`)
    }
  })

  it('serve --port names the flag and the range', async () => {
    for (const [args, env] of [[['--port', '99999'], {}], [[], { TASKENGINE_PORT: 'http' }]] as const) {
      const { code, stderr } = await runBin(['serve', ...args, '--store', ':memory:'], { env })
      expect(code).toBe(2)
      expect(stderr).toBe(`taskengine: --port: expected a port from 0 to 65535 (0 picks a free one), got "${args[1] ?? env.TASKENGINE_PORT}" (string)\n`)
    }
  })

  it('schedules toggle, trigger and runs list the known schedule ids for an unknown one', async () => {
    for (const command of [['toggle', 'nope', 'on'], ['trigger', 'nope'], ['runs', 'nope']]) {
      const { code, stderr } = await runBin(['schedules', ...command, '--store', join(dir, 'schedules.db')])
      expect(code).toBe(2)
      expect(stderr).toBe('taskengine: unknown schedule "nope" (schedules from examples: countdown-every-5-minutes)\n')
    }
    const none = await runBin(['schedules', 'toggle', 'nope', 'off', '--tasks', 'test/fixtures/tasks.mjs', '--store', join(dir, 'schedules.db')])
    expect(none.stderr).toBe(`taskengine: unknown schedule "nope" (schedules from ${join(ROOT, 'test/fixtures/tasks.mjs')}: none)\n`)
  })
})

describe('taskengine --help', () => {
  it('names every config file the CLI looks for and every TASKENGINE_* variable it reads', async () => {
    const { code, stdout } = await runBin(['--help'])
    expect(code).toBe(0)
    expect(stdout).toContain('taskengine.config.{ts,mts,js,mjs}')
    const read = new Set<string>()
    const walk = (path: string): void => {
      for (const name of readdirSync(path)) {
        const child = join(path, name)
        if (statSync(child).isDirectory()) walk(child)
        else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) for (const match of readFileSync(child, 'utf8').matchAll(/TASKENGINE_[A-Z_]+/g)) read.add(match[0])
      }
    }
    walk(join(ROOT, 'src', 'cli'))
    expect(read.size).toBeGreaterThanOrEqual(7)
    for (const name of read) expect(stdout, name).toMatch(new RegExp(`^ {2}${name} `, 'm'))
    for (const command of ['serve', 'worker', 'runs list']) expect((await runBin([...command.split(' '), '--help'])).stdout, command).toContain('--debug')
  })
})
