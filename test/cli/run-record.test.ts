/**
 * `taskengine run` with a store records its run there (in-process, created by the CLI user,
 * started from "cli") and says which run it stored; `--no-record` skips that, and without a
 * store nothing is stored or opened, as before. On a SQLite file and on PostgreSQL.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import type { Store } from '../../src/store/types.js'
import { runBin, runInProcess } from '../helpers/cli.js'
import { describePostgres } from '../helpers/postgres.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-run-record-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Reads the store, then closes it. */
async function reading<T>(store: Store, read: (store: Store) => Promise<T>): Promise<T> {
  try {
    await store.ready()
    return await read(store)
  } finally {
    await store.close()
  }
}

/** Runs `hello` into a pipe with `--store spec`, checks the stored run, and that --no-record adds none. */
async function recordsInto(spec: string, described: string, open: () => Store): Promise<void> {
  const recorded = await runBin(['run', 'hello', '--name', 'Ada', '--store', spec], { env: { USER: 'ada' } })
  expect(recorded.code, recorded.stderr).toBe(0)
  const result = JSON.parse(recorded.stdout) as RunResult
  expect(recorded.stderr).toContain(`taskengine: stored as run ${result.id} in ${described}\n`)
  const run = await reading(open(), (store) => store.getRun(result.id))
  expect(run).toMatchObject({ task: 'hello', status: 'succeeded', inProcess: true, startedFrom: 'cli', createdBy: 'ada', data: { greeting: 'Hello, Ada!' }, args: { name: 'Ada' } })
  expect(await reading(open(), (store) => store.getLogs(result.id, 0, 10))).toMatchObject([{ seq: 1, level: 'info', message: 'greeting Ada' }])
  // The audit trail says the CLI ran it, and from where.
  const audit = await reading(open(), (store) => store.listAudit({ target: result.id }))
  expect(audit.entries.map((e) => [e.action, e.actor, e.actorKind, e.via, e.details])).toEqual([['run.sync', 'cli', 'cli', 'cli', { task: 'hello', args: { name: 'Ada', shout: false }, status: 'succeeded' }]])
  expect(audit.entries[0]!.address).toMatch(/^ada@/)

  const skipped = await runBin(['run', 'hello', '--name', 'Bob', '--store', spec, '--no-record', '-q'])
  expect(skipped.code, skipped.stderr).toBe(0)
  expect(skipped.stderr).toBe('')
  const bob = (JSON.parse(skipped.stdout) as RunResult).id
  expect(await reading(open(), (store) => store.getRun(bob))).toBeUndefined()
  expect((await reading(open(), (store) => store.listRuns({}))).data.map((r) => r.id)).toEqual([result.id])
  expect((await reading(open(), (store) => store.listAudit({ action: 'run.' }))).entries).toHaveLength(1)
}

describe('taskengine run --store', () => {
  it('records the run in a SQLite file and prints its id on stderr; --no-record stores nothing', async () => {
    const file = join(dir, 'recorded.db')
    await recordsInto(file, file, () => sqliteStore(file))
  })

  it('on a terminal, ends the summary with the stored run; --created-by names its creator', async () => {
    const file = join(dir, 'terminal.db')
    const { code, stdout } = await runInProcess(['run', 'hello', '--name', 'Cy', '--store', file, '--created-by', 'grace', '-q'], { tty: true, env: { USER: 'ada' } })
    expect(code).toBe(0)
    const id = /^stored as run (\S+) in (.+)$/m.exec(stdout)
    expect(stdout).toMatch(/^✔ hello succeeded in \d+ ms\ndata: \{"greeting":"Hello, Cy!"\}\nstored as run \S+ in .+\n$/)
    expect(id?.[2]).toBe(file)
    expect(await reading(sqliteStore(file), (store) => store.getRun(id![1]!))).toMatchObject({ createdBy: 'grace', inProcess: true, startedFrom: 'cli' })
  })

  it('without a store stores nothing and opens no store, as before', async () => {
    const cwd = mkdtempSync(join(dir, 'no-store-'))
    const { code, stdout, stderr } = await runInProcess(['run', 'hello', '-q'], { cwd })
    expect(code).toBe(0)
    expect(stderr).toBe('')
    expect((JSON.parse(stdout) as RunResult).status).toBe('succeeded')
    expect(existsSync(join(cwd, 'data'))).toBe(false)
  })
})

await describePostgres('taskengine run --store postgres://', ({ open, newSchema, storeUrl }) => {
  it('records the run in the schema; --no-record stores nothing', async () => {
    const schema = newSchema()
    const url = new URL(storeUrl(schema))
    // Named without credentials.
    await recordsInto(storeUrl(schema), `postgres://${url.host}${url.pathname} (schema ${schema})`, () => open({ schema }))
  })
})
