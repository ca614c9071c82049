/**
 * Worker processes for the flow-control proofs (test/flow-*.test.ts): workers started through the
 * CLI or test/fixtures/flow-worker.mjs on one store, a counter every handler updates as it enters
 * and leaves (test/fixtures/flow-tasks.mjs), gates that hold handlers still, and waits on what the
 * store and the counter say. Calling {@link flowHarness} in a test file registers the clean-up.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, afterEach, expect, vi } from 'vitest'
import { createEngine, type AnyTask, type Engine, type EngineOptions, type Run, type RunFilter } from '../../src/index.js'
import { FIXTURES, ROOT, finished, startCli, waitForOutput, type CliRun } from './cli.js'
import type { PostgresTestKit } from './postgres.js'

export const TASKS = join(FIXTURES, 'flow-tasks.mjs')
const WORKER_SCRIPT = join(FIXTURES, 'flow-worker.mjs')
/** Local concurrency of each worker process (unless started with another). */
export const LOCAL = 10
/** How long a batch may take to finish on a busy machine. */
export const FINISH_MS = 45_000
/** How long a worker may take to exit once asked to stop (its grace is 2 s). */
const EXIT_MS = 30_000

/** The tasks of test/fixtures/flow-tasks.mjs by export name. */
export const tasks = (await import(TASKS)) as Record<string, AnyTask>

export interface WorkerProcess {
  readonly child: ReturnType<typeof startCli>
  readonly done: Promise<CliRun>
  /** Resolves once the worker says it started; rejects, with its output, if it exits before. */
  readonly started: Promise<void>
  /** What it wrote to stderr so far. */
  stderr(): string
}

/** What the shared counter holds for one name. */
export interface Count {
  /** Handlers running now. */
  readonly active: number
  /** The most handlers that ran at once. */
  readonly peak: number
  /** Handlers started in all. */
  readonly starts: number
}

export interface Counter {
  /** FLOW_COUNTER and FLOW_COUNTER_SCHEMA for the workers. */
  readonly env: Record<string, string>
  read(name: string): Promise<Count>
  close(): Promise<void>
}

/** Options of a worker process. */
export interface WorkerSpec {
  readonly env: Record<string, string>
  readonly leaseMs?: number
  /** Extra createEngine options (then test/fixtures/flow-worker.mjs runs, not the CLI). */
  readonly engine?: object
  /** Local concurrency (default {@link LOCAL}). */
  readonly concurrency?: number
  /** How often an idle worker polls the store (default 50 ms). */
  readonly pollMs?: number
}

/** The harness of one test file: its temporary directory, its processes, its clean-ups. */
export function flowHarness() {
  const dir = mkdtempSync(join(tmpdir(), 'taskengine-flow-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  let n = 0


  const children: WorkerProcess[] = []
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const w of children.splice(0)) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL')
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
  })

  /**
   * Starts a worker process on `store`: the CLI's `worker` command, or, for engine options the CLI
   * does not have (`engine`), test/fixtures/flow-worker.mjs. Local concurrency 10 and polling every 50 ms unless `options` say otherwise.
   */
  function startWorker(store: string, options: WorkerSpec): WorkerProcess {
    const leaseMs = String(options.leaseMs ?? 30_000)
    const child =
      options.engine === undefined
        ? startCli(['worker', '--store', store, '--tasks', TASKS, '--concurrency', String(options.concurrency ?? LOCAL), '--lease-ms', leaseMs, '--poll-ms', String(options.pollMs ?? 50), '--grace', '2000', '--quiet'], { env: options.env })
        : spawn(process.execPath, [WORKER_SCRIPT, store], {
            cwd: ROOT,
            env: { ...process.env, NO_COLOR: '1', ...options.env, FLOW_ENGINE: JSON.stringify(options.engine), FLOW_LEASE_MS: leaseMs, FLOW_CONCURRENCY: String(options.concurrency ?? LOCAL), FLOW_POLL_MS: String(options.pollMs ?? 50) },
          })
    const done = finished(child)
    let stderr = ''
    child.stderr.on('data', (chunk: string) => (stderr += chunk))
    const started = Promise.race([
      waitForOutput(child.stderr, 'started'),
      done.then((exit) => {
        throw new Error(`worker ${child.pid} exited before it started (code ${exit.code}, signal ${exit.signal}):\n${exit.stderr}${exit.stdout}`)
      }),
    ])
    started.catch(() => undefined)
    const worker = { child, done, started, stderr: () => stderr }
    children.push(worker)
    return worker
  }

  /** Starts `count` workers and waits until each has started. */
  async function startWorkers(count: number, store: string, options: Parameters<typeof startWorker>[1]): Promise<WorkerProcess[]> {
    const workers = Array.from({ length: count }, () => startWorker(store, options))
    await Promise.all(workers.map((w) => w.started))
    return workers
  }

  /** Stops workers with SIGTERM; each exits 0, within {@link EXIT_MS} (else the test fails with what the worker wrote). */
  async function stopWorkers(workers: readonly WorkerProcess[]): Promise<void> {
    for (const w of workers) w.child.kill('SIGTERM')
    const exited = (w: WorkerProcess): Promise<CliRun> => {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`worker ${w.child.pid} did not exit within ${EXIT_MS} ms of SIGTERM; its stderr ends:\n${w.stderr().slice(-4000)}`)), EXIT_MS)
      })
      return Promise.race([w.done, late]).finally(() => clearTimeout(timer))
    }
    const exits = await Promise.all(workers.map(exited))
    expect(exits.map((e) => [e.code, e.signal])).toEqual(workers.map(() => [0, null]))
  }

  /** Every run matching `filter` (at most 1000). */
  async function runsOf(engine: Engine, filter: RunFilter): Promise<readonly Run[]> {
    return (await engine.listRuns({ ...filter, pageSize: 1000 })).data
  }

  /** Waits (polling the store) until `count` runs matching `filter` succeeded, none failed, and every worker lives. */
  async function allSucceed(engine: Engine, filter: RunFilter, count: number, workers: readonly WorkerProcess[]): Promise<void> {
    await vi.waitFor(
      async () => {
        for (const w of workers) if (w.child.exitCode !== null || w.child.signalCode !== null) throw new Error(`worker ${w.child.pid} exited`)
        expect((await engine.listRuns({ ...filter, status: ['failed', 'cancelled'], pageSize: 1 })).total).toBe(0)
        expect((await engine.listRuns({ ...filter, status: 'succeeded', pageSize: 1 })).total).toBe(count)
      },
      { timeout: FINISH_MS, interval: 150 },
    )
  }

  /** Args of `count` runs counted under `counter`, waiting for `gate` (a file) to exist if given. */
  function batch(counter: string, count: number, gate = ''): { counter: string; ms: number; gate: string }[] {
    return Array.from({ length: count }, () => ({ counter, ms: 40, gate }))
  }

  /** A gate for handlers: a file path, and opening it (creating the file). */
  function gate(): { path: string; open(): void } {
    const path = join(dir, `gate-${++n}`)
    return { path, open: () => writeFileSync(path, '') }
  }

  /** Waits (polling the counter) until the handlers running now under `names` add up to `count`, every worker living. */
  async function running(counter: Counter, names: readonly string[], count: number, workers: readonly WorkerProcess[]): Promise<void> {
    await vi.waitFor(
      async () => {
        for (const w of workers) if (w.child.exitCode !== null || w.child.signalCode !== null) throw new Error(`worker ${w.child.pid} exited`)
        let active = 0
        for (const name of names) active += (await counter.read(name)).active
        expect(active).toBeGreaterThanOrEqual(count)
      },
      { timeout: FINISH_MS, interval: 100 },
    )
  }

  /** The counter in a SQLite file of its own, with each process's running handlers (for the kill test). */
  function sqliteCounter(): Counter & { db: Database.Database; forget(pid: number, name: string): number } {
    const path = join(dir, `counter-${++n}.db`)
    const db = new Database(path)
    db.pragma('journal_mode = WAL')
    db.exec(`CREATE TABLE counter (name TEXT PRIMARY KEY, active INTEGER NOT NULL, peak INTEGER NOT NULL, starts INTEGER NOT NULL);
             CREATE TABLE inflight (name TEXT NOT NULL, pid INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (name, pid))`)
    const counter = {
      db,
      env: { FLOW_COUNTER: path },
      read: async (name: string): Promise<Count> => (db.prepare('SELECT active, peak, starts FROM counter WHERE name = ?').get(name) as Count | undefined) ?? { active: 0, peak: 0, starts: 0 },
      /**
       * Takes the handlers of process `pid` (killed) out of `active` and starts the peak again from
       * what runs now; returns how many there were. One write transaction, so atomic for the workers.
       */
      forget: (pid: number, name: string): number =>
        db.transaction(() => {
          const held = (db.prepare('SELECT n FROM inflight WHERE name = ? AND pid = ?').get(name, pid) as { n: number } | undefined)?.n ?? 0
          db.prepare('UPDATE counter SET active = active - ?, peak = active - ? WHERE name = ?').run(held, held, name)
          db.prepare('UPDATE inflight SET n = 0 WHERE name = ? AND pid = ?').run(name, pid)
          return held
        }).immediate(),
      close: async () => void db.close(),
    }
    cleanups.push(counter.close)
    return counter
  }

  /** The counter as a table in `schema` (made here, before the store migrates it). */
  async function pgCounter(kit: PostgresTestKit, schema: string): Promise<Counter> {
    await kit.admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    await kit.admin.query(`CREATE TABLE "${schema}".flow_counter (name text PRIMARY KEY, active integer NOT NULL, peak integer NOT NULL, starts integer NOT NULL)`)
    return {
      env: { FLOW_COUNTER: kit.url, FLOW_COUNTER_SCHEMA: schema },
      read: async (name) => {
        const { rows } = await kit.admin.query<Count>(`SELECT active, peak, starts FROM "${schema}".flow_counter WHERE name = $1`, [name])
        return rows[0] ?? { active: 0, peak: 0, starts: 0 }
      },
      close: async () => undefined,
    }
  }

  /** An engine in this process that enqueues and reads runs (it runs no worker). */
  function producer(store: NonNullable<EngineOptions['store']>, extra: Pick<EngineOptions, 'queues'> = {}): Engine {
    const engine = createEngine({ tasks: Object.values(tasks), store, ...extra })
    cleanups.push(() => engine.close())
    return engine
  }

  return { dir, next: () => ++n, startWorker, startWorkers, stopWorkers, runsOf, allSucceed, batch, gate, running, sqliteCounter, pgCounter, producer, cleanups }
}
