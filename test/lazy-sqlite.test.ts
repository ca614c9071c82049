/**
 * `createEngine` loads the SQLite backend, and with it the native better-sqlite3 addon, only when
 * it opens its default store. Each case is a real Node process importing the built package by its
 * name, as a user's program does:
 *
 * - a PostgreSQL-only program (`taskengine` + `taskengine/postgres`) runs a durable task under a
 *   resolve hook that refuses `better-sqlite3`, and the addon is not among the process's loaded
 *   shared objects at the end;
 * - the hook is shown to bite: importing `taskengine/sqlite` under it fails;
 * - an engine without a store runs in-process without the addon, and loads it at its first
 *   durable use.
 */
import { spawn } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { ROOT, finished } from './helpers/cli.js'
import { PG_URL, describePostgres } from './helpers/postgres.js'

/** A resolve hook, registered before the program runs, that refuses any import of better-sqlite3. */
const REFUSE_SQLITE_HOOK = `export async function resolve(specifier, context, next) {
  if (specifier === 'better-sqlite3' || specifier.startsWith('better-sqlite3/')) {
    throw new Error('REFUSED: better-sqlite3 was imported (from ' + context.parentURL + ')')
  }
  return next(specifier, context)
}`
const REGISTER_HOOK = `data:text/javascript,${encodeURIComponent(
  `import { register } from 'node:module'\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(REFUSE_SQLITE_HOOK)}`)})`,
)}`

/**
 * What a program ends with: the native SQLite addon among the shared objects the process loaded
 * (`process.report`), and better-sqlite3 among the CommonJS modules it loaded. And how it waits
 * for its one durable run: on the engine's event of the run's end.
 */
const REPORT = `
  import { createRequire } from 'node:module'
  const sqliteLoaded = () => ({
    addon: process.report.getReport().sharedObjects.filter((path) => path.includes('better_sqlite3')).length,
    modules: Object.keys(createRequire(import.meta.url).cache).filter((path) => path.includes('better-sqlite3')).length,
  })
  const runEnded = (engine) => new Promise((resolve) => {
    const off = engine.subscribe((event) => {
      if (event.type === 'succeeded' || event.type === 'failed' || event.type === 'cancelled') {
        off()
        resolve()
      }
    })
  })
`

const children: ReturnType<typeof spawn>[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

/** Runs an ES module program in a new Node process (`refuseSqlite`: under the hook). */
function program(code: string, options: { refuseSqlite: boolean; env?: Record<string, string> }) {
  const args = [...(options.refuseSqlite ? ['--import', REGISTER_HOOK] : []), '--input-type=module', '-e', REPORT + code]
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...options.env } })
  children.push(child)
  return finished(child)
}

/** The JSON object the program printed last. */
function lastJson(stdout: string): unknown {
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null')
}

describe('createEngine and the SQLite addon', () => {
  it('the hook refuses better-sqlite3: a program importing taskengine/sqlite fails under it', async () => {
    const exit = await program(`import { sqliteStore } from 'taskengine/sqlite'\nconsole.log(typeof sqliteStore)`, { refuseSqlite: true })
    expect(exit.code).not.toBe(0)
    expect(exit.stderr).toContain('REFUSED: better-sqlite3 was imported')
  })

  it('an engine without a store runs in-process without the addon, and loads it at its first durable use', async () => {
    const exit = await program(
      `
      import { createEngine, defineTask } from 'taskengine'
      const double = defineTask({ key: 'double', fields: [{ key: 'n', type: 'int', required: true }], run: (ctx) => ctx.args.n * 2 })
      const engine = createEngine({ tasks: [double] })
      const inProcess = await engine.run(double, { n: 2 })
      const beforeDurable = sqliteLoaded()
      const ended = runEnded(engine)
      await engine.start()
      const enqueued = await engine.enqueue(double, { n: 21 })
      await ended
      const run = await engine.getRun(enqueued.id)
      await engine.close()
      console.log(JSON.stringify({ inProcess: inProcess.data, beforeDurable, status: run.status, data: run.data, afterDurable: sqliteLoaded() }))
      `,
      { refuseSqlite: false },
    )
    expect(exit).toMatchObject({ code: 0, signal: null })
    const { afterDurable, ...rest } = lastJson(exit.stdout) as { afterDurable: { addon: number; modules: number } }
    expect(rest).toEqual({ inProcess: 4, beforeDurable: { addon: 0, modules: 0 }, status: 'succeeded', data: 42 })
    expect(afterDurable.addon).toBe(1)
    expect(afterDurable.modules).toBeGreaterThan(0)
  })
})

await describePostgres('a PostgreSQL-only program', (kit) => {
  it('runs a durable task without ever loading better-sqlite3', async () => {
    const exit = await program(
      `
      import { createEngine, defineTask } from 'taskengine'
      import { postgresStore } from 'taskengine/postgres'
      const double = defineTask({ key: 'double', fields: [{ key: 'n', type: 'int', required: true }], run: (ctx) => ctx.args.n * 2 })
      const engine = createEngine({ store: postgresStore({ connectionString: process.env.PG_URL, schema: process.env.PG_SCHEMA }), tasks: [double] })
      const ended = runEnded(engine)
      await engine.start()
      const enqueued = await engine.enqueue(double, { n: 21 })
      await ended
      const run = await engine.getRun(enqueued.id)
      await engine.close()
      console.log(JSON.stringify({ status: run.status, data: run.data, sqlite: sqliteLoaded() }))
      `,
      { refuseSqlite: true, env: { PG_URL, PG_SCHEMA: kit.newSchema() } },
    )
    expect(exit.stderr).not.toContain('REFUSED')
    expect(exit).toMatchObject({ code: 0, signal: null })
    expect(lastJson(exit.stdout)).toEqual({ status: 'succeeded', data: 42, sqlite: { addon: 0, modules: 0 } })
  })
})
