/**
 * The harness of the admin UI's Chromium suites (`test/ui/admin*.test.ts`): one engine with the
 * example tasks and a few of its own (hostile strings, a dangerous task, a failing one, a pool, a
 * paced one), a server and a browser per test file; pages opened through `openPage` report page
 * errors, console errors and alerts. Whatever a test changes (the server stopped, pages open, runs
 * still going) is put back after it, also when it fails.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, vi } from 'vitest'
import { exampleTasks } from '../../src/examples/tasks.js'
import { ConflictError, createEngine, defineSchedule, defineTask, type Engine, type Run, type RunContext, type RunState } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { Contexts, PATIENCE, browserAvailable, launchBrowser } from './browser.js'
import { runReaches } from './runs.js'

// expect.poll's own default (1 s) is too short for a page on a loaded machine.
vi.setConfig({ expect: { poll: PATIENCE } })

/** A string that would run script if the UI ever put it into HTML unescaped. */
export const HOSTILE = '<img src=x onerror="window.__xss=1;alert(1)">'
/** Where the screenshots go. */
export const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'ui')

const hostile = defineTask({
  key: 'hostile',
  title: 'Hostile Strings',
  description: `Shows ${HOSTILE} as text`,
  fields: [{ key: 'note', type: 'string', default: HOSTILE }],
  run(ctx) {
    ctx.log(HOSTILE)
    ctx.log.error(`${ctx.args.note} again`)
    return { html: HOSTILE }
  },
})
const dangerous = defineTask({
  key: 'danger',
  title: 'Drop Everything',
  dangerous: 'Deletes all the things',
  run: () => 'dropped',
})
const failing = defineTask({
  key: 'flaky',
  fields: [{ key: 'mode', type: 'string', default: 'fail', choices: ['fail', 'pass'] }],
  maxAttempts: 1,
  run(ctx) {
    if (ctx.args.mode === 'fail') throw new Error('flaky failed on purpose')
    return { mode: ctx.args.mode }
  },
})

const fanout = defineTask({
  key: 'fanout',
  title: 'Fan Out',
  fields: [{ key: 'names', type: 'string[]', default: ['a', 'b'] }],
  async run(ctx) {
    const pool = ctx.pool({ label: 'greetings' })
    for (const name of ctx.args.names) await pool.add('hello', { name })
    return (await pool.wait()).complete
  },
})

/**
 * Log lines each `paced` run may have written so far, by run id. The test hands them out, so the
 * run is surely mid-way when the test acts (stops the server, say) and holds before it ends,
 * whatever the machine's speed.
 */
const allowance = new Map<string, number>()
const wakers = new Set<() => void>()
export function allow(runId: string, lines: number): void {
  allowance.set(runId, lines)
  for (const wake of [...wakers]) wake()
}
/** Resolves once the test has allowed run `ctx.runId` `lines` (see {@link allow}); rejects when the run is aborted. */
export async function allowed(ctx: RunContext, lines: number): Promise<void> {
  while ((allowance.get(ctx.runId) ?? 0) < lines) {
    ctx.signal.throwIfAborted()
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        wakers.delete(wake)
        ctx.signal.removeEventListener('abort', wake)
        resolve()
      }
      wakers.add(wake)
      ctx.signal.addEventListener('abort', wake, { once: true })
    })
  }
}
const paced = defineTask({
  key: 'paced',
  fields: [{ key: 'lines', type: 'int', default: 30 }],
  async run(ctx) {
    for (let line = 1; line <= ctx.args.lines; line++) {
      await allowed(ctx, line)
      ctx.log(`line ${line} of ${ctx.args.lines}`)
    }
    await allowed(ctx, ctx.args.lines + 1)
    return { lines: ctx.args.lines }
  },
})

export const ACTIVE: RunState[] = ['pending', 'running', 'waiting']

const run = browserAvailable() ? describe : describe.skip

let dir: string
/** The suite's engine (a worker of 4, the example tasks and the ones above, SQLite in a temporary directory). */
export let engine: Engine
/** Undefined while a test has the server stopped; the `afterEach` starts it again. */
export let server: RunningServer | undefined
let browser: Browser
let port: number
/** The server's address. */
export let base: string
/** The suite's browser contexts, closed after each test. */
export const contexts = new Contexts(() => browser)

/** Starts the server again on its port (after {@link stopServer}). */
export const startServer = async (): Promise<void> => {
  server = await serve(engine, { port, onError: () => undefined, streamPollIntervalMs: 100 })
}
/** Stops the server. The `afterEach` starts it again, also after a test that failed meanwhile. */
export const stopServer = async (): Promise<void> => {
  const running = server
  server = undefined
  await running?.close()
}

/** The address of `path` on the server. */
export const url = (path: string): string => `${base}${path}`

/** A page at 1360 × 900 in a fresh context, with the problems it reports (page errors, console errors, alerts). */
export async function openPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await contexts.open({ viewport: { width: 1360, height: 900 } })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`)
  })
  page.on('dialog', (dialog) => {
    if (dialog.type() === 'alert') problems.push(`alert: ${dialog.message()}`)
    void dialog.accept()
  })
  return { context, page, problems }
}

/** Resolves with the run once it has `status`, woken by its events (the engine here runs it). */
export function waitForStatus(id: string, status: RunState): Promise<Run> {
  return runReaches(engine, id, status, PATIENCE.timeout)
}

/**
 * A suite over the shared engine, server and browser: `body` declares its tests; the hooks start
 * them before the first and put back what each test changed after it. Skipped without Chromium.
 */
export function describeAdminUi(name: string, body: () => void): void {
  run(name, { timeout: 60_000 }, () => {
    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true })
      dir = mkdtempSync(join(tmpdir(), 'taskengine-ui-'))
      engine = createEngine({
        tasks: [...exampleTasks, hostile, dangerous, failing, fanout, paced],
        schedules: [defineSchedule({ id: 'nightly-hello', name: 'Nightly hello', description: `Greets ${HOSTILE}`, cron: '30 2 * * *', timezone: 'Europe/Berlin', task: 'hello', args: { name: 'night' } })],
        store: sqliteStore(join(dir, 'ui.db')),
        pollIntervalMs: 20,
        progressIntervalMs: 50,
      })
      await engine.start({ concurrency: 4 })
      // Port 0 once; restarts reuse the port, so pages reconnect to the same address.
      server = await serve(engine, { port: 0, onError: () => undefined, streamPollIntervalMs: 100 })
      port = server.port
      base = server.url
      browser = await launchBrowser()
    }, 60_000)

    afterEach(async () => {
      // Pages first: their sockets and timers must not act on what is restored below.
      await contexts.closeAll()
      if (server === undefined) await startServer()
      // Runs a test left going hold worker slots (and show in later pages): cancel them and wait
      // until they have ended.
      for (const left of (await engine.listRuns({ status: ACTIVE, pageSize: 1000 })).data) {
        await engine.cancel(left.id, 'left over by a test').catch((error: unknown) => {
          if (!(error instanceof ConflictError)) throw error // ended meanwhile
        })
      }
      await vi.waitFor(async () => expect((await engine.listRuns({ status: ACTIVE })).total).toBe(0), PATIENCE)
    }, 60_000)

    afterAll(async () => {
      await contexts.closeAll()
      await browser?.close()
      await server?.close()
      await engine?.close({ graceMs: 0 })
      rmSync(dir, { recursive: true, force: true })
    })

    body()
  })
}
