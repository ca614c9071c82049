/**
 * At most once per attempt, through real processes: a handler that kills its own process with
 * SIGKILL as soon as it is called runs exactly `maxAttempts` times, on SQLite and on PostgreSQL —
 * the process dies with its writes still buffered, and the rescue must still count the attempt.
 * Each execution appends its run id to a file first, so the count survives the kill.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine, type Run } from '../src/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import type { Store } from '../src/store/types.js'
import { FIXTURES, finished, startCli, waitForOutput } from './helpers/cli.js'
import { describePostgres } from './helpers/postgres.js'

const TASKS = join(FIXTURES, 'crash-tasks.mjs')
const dir = mkdtempSync(join(tmpdir(), 'taskengine-at-most-once-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

const children: ReturnType<typeof startCli>[] = []
const engines: Engine[] = []
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await Promise.all(engines.splice(0).map((e) => e.close()))
})

/**
 * Enqueues one `crash` run with `maxAttempts`, then starts worker processes one after another
 * (each rescues what the last one left, then executes and dies) until the run is final.
 */
async function crashUntilFinal(store: Store, storeArg: string, maxAttempts: number): Promise<{ run: Run; executions: string[] }> {
  const { crash } = (await import(TASKS)) as { crash: Parameters<Engine['register']>[0] }
  const engine = createEngine({ tasks: [crash], store })
  engines.push(engine)
  const enqueued = await engine.enqueue('crash', {}, { maxAttempts })
  const log = join(dir, `exec-${++n}.log`)
  // More workers than attempts: the ones after the last attempt find the run final (or rescue it).
  for (let i = 0; i < maxAttempts + 3; i++) {
    if (isFinal(await engine.getRun(enqueued.id))) break
    const child = startCli(['worker', '--store', storeArg, '--tasks', TASKS, '--lease-ms', '600', '--poll-ms', '20'], { env: { TASKENGINE_EXEC_LOG: log } })
    children.push(child)
    const done = finished(child)
    // It dies by its handler's SIGKILL, or it rescues the run for good, which it prints as the
    // run's end ("<time> failed    crash <id>": the worker prints a line per run it finishes or
    // retries): then it is stopped.
    const failed = waitForOutput(child.stderr, new RegExp(` failed +crash ${enqueued.id}`))
    const outcome = await Promise.race([done, failed.then(() => undefined)])
    if (outcome === undefined) {
      child.kill('SIGTERM')
      await done
    } else expect([outcome.signal, outcome.code, outcome.stderr]).toEqual(['SIGKILL', null, expect.any(String)])
  }
  const run = await engine.getRun(enqueued.id)
  expect(isFinal(run)).toBe(true)
  let executions: string[] = []
  try {
    executions = readFileSync(log, 'utf8').split('\n').filter(Boolean)
  } catch {
    // never executed
  }
  return { run: run!, executions }
}

/** Whether the run has ended (the worker processes finish it; this process only reads it). */
function isFinal(run: Run | undefined): boolean {
  return run !== undefined && run.status !== 'pending' && run.status !== 'running'
}

function expectExactly(maxAttempts: number, { run, executions }: { run: Run; executions: string[] }): void {
  expect(executions).toEqual(Array.from({ length: maxAttempts }, (_, i) => `${run.id} ${i + 1}`))
  expect(run).toMatchObject({ status: 'failed', attempt: maxAttempts, error: { code: 'ERR_WORKER_LOST' } })
  expect(run.attempts).toHaveLength(maxAttempts)
}

describe('at most maxAttempts executions when handlers kill their process (SQLite)', () => {
  for (const maxAttempts of [1, 2]) {
    it(`maxAttempts ${maxAttempts}: executes exactly ${maxAttempts} time(s), then fails as worker lost`, { timeout: 60_000 }, async () => {
      const path = join(dir, `crash-${++n}.db`)
      expectExactly(maxAttempts, await crashUntilFinal(sqliteStore(path), path, maxAttempts))
    })
  }
})

await describePostgres('at most maxAttempts executions when handlers kill their process (PostgreSQL)', ({ open, newSchema, storeUrl }) => {
  for (const maxAttempts of [1, 2]) {
    it(`maxAttempts ${maxAttempts}: executes exactly ${maxAttempts} time(s), then fails as worker lost`, { timeout: 60_000 }, async () => {
      const schema = newSchema()
      expectExactly(maxAttempts, await crashUntilFinal(open({ schema }), storeUrl(schema), maxAttempts))
    })
  }
})
