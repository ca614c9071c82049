/**
 * The PostgreSQL store: the shared conformance suite (each test on its own fresh schema) with
 * every optional part (signals, leader election, caller transactions, stores sharing a schema),
 * plus what only PostgreSQL has: concurrent migrations, the upgrade of older schemas, lock order,
 * LISTEN/NOTIFY wake-ups across processes, connection loss, text PostgreSQL cannot hold.
 *
 * Needs a server: TASKENGINE_TEST_PG (default postgres://postgres@127.0.0.1:5432/test). When it
 * is unreachable the suite is skipped with a warning, except in CI (CI=true), where it fails.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type AddressInfo } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { ConflictError, ValidationError } from '../../src/errors.js'
import { POSTGRES_MIGRATIONS, migrate } from '../../src/store/postgres/migrations/index.js'
import { postgresStore, type PostgresStore } from '../../src/store/postgres/index.js'
import { describeStoreConformance, newRun } from '../../src/store/testing/index.js'
import type { ClaimRequest, ClaimedRun } from '../../src/store/types.js'
import { describePostgres } from '../helpers/postgres.js'
import { Watched } from '../helpers/watched.js'
import { expectUpgradedRows, versionTwoRows } from '../upgrade-fixture.js'

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0)
const EMPTY = { logs: [], progress: [], waits: [], completions: [] }

function claimRequest(overrides: Partial<ClaimRequest> = {}): ClaimRequest {
  return { workerId: 'w', limit: 10, now: T0, leaseUntil: T0 + 30_000, tasks: ['work', 'other'], queues: undefined, taskCaps: new Map(), queueCaps: new Map(), ...overrides }
}

/**
 * Resolves when `fn` returns true, or fails after `ms`: for the server's own state (locks waited
 * on, sessions LISTENing), which sends no event, so it is read again every 25 ms. What the store
 * tells in callbacks is waited on with {@link Watched}.
 */
async function until(fn: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe('postgres store without an answering server', () => {
  it('gives up connecting after connectTimeoutMs when the server accepts connections but never answers', async () => {
    const silent = createServer(() => undefined)
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as AddressInfo
    const store = postgresStore({ connectionString: `postgres://nobody@127.0.0.1:${port}/none`, connectTimeoutMs: 200, onError: () => undefined })
    try {
      const started = Date.now()
      await expect(store.ready()).rejects.toThrow(/timeout/i)
      expect(Date.now() - started).toBeLessThan(10_000)
    } finally {
      await store.close().catch(() => undefined)
      silent.close()
    }
    expect(() => postgresStore({ connectionString: 'postgres://x@127.0.0.1/x', connectTimeoutMs: 0 })).toThrow('connectTimeoutMs: expected an integer number of milliseconds from 1 and up, got 0 (number)')
  })
})

await describePostgres('postgres store', ({ admin, newSchema, open, url: URL_ }) => {
  describeStoreConformance('postgres', async () => open(), {
    concurrentCalls: true,
    signals: true,
    leader: true,
    transactionalClient: async (store) => {
      const client = await (store as PostgresStore).pool.connect()
      await client.query('BEGIN')
      const end = async (sql: string): Promise<void> => {
        try {
          await client.query(sql)
        } finally {
          client.release()
        }
      }
      return { client, commit: () => end('COMMIT'), rollback: () => end('ROLLBACK') }
    },
    durable: () => {
      const schema = newSchema()
      return async () => open({ schema })
    },
  })

  describe('postgres store specifics', () => {
    it('validates its options, quoting bad values', () => {
      expect(() => postgresStore({ connectionString: URL_, schema: 'Bad-Name' })).toThrow(/schema: .*got "Bad-Name"/)
      expect(() => postgresStore({ schema: 'ok' })).toThrow(ValidationError)
      expect(() => postgresStore({ connectionString: URL_, max: 0 })).toThrow(/max: .*got 0/)
      expect(() => postgresStore({ connectionString: URL_, pool: admin })).toThrow(/not both/)
    })

    // Limit 4: full once the other commits (the claim gets nothing). Limit 10: room for the whole
    // claim (one statement, claim_runs_limited). Limit 6: room for 2 of 3 (the claim binds and
    // goes in rounds).
    it.each([
      [4, 0],
      [10, 3],
      [6, 2],
    ])("waits for a claim under the same limit to commit, and counts what it took (the limit's lock): limit %i, claims %i", async (limit, expected) => {
      const schema = newSchema()
      const store = open({ schema })
      const other = await admin.connect()
      try {
        await store.ready()
        await store.insertRuns(Array.from({ length: 10 }, () => newRun({ task: 'work' })))
        const request = (workerId: string): ClaimRequest => ({
          workerId,
          limit: 3,
          now: Date.now(),
          leaseUntil: Date.now() + 60_000,
          tasks: ['work'],
          queues: undefined,
          taskCaps: new Map(),
          queueCaps: new Map(),
          globalTaskLimits: new Map([['work', limit]]),
        })
        // Another process, mid-claim: it holds the limit's lock and has taken 4 runs, not yet committed.
        await other.query('BEGIN')
        await other.query('SELECT pg_advisory_xact_lock($1::int4, hashtext($2))', [0x6c696d74, `${schema}:task:work`])
        await other.query(`UPDATE "${schema}".runs SET status = 'running', worker_id = 'other' WHERE id IN (SELECT id FROM "${schema}".runs ORDER BY id LIMIT 4)`)
        let settled = false
        const claim = store.claimRuns(request('mine')).finally(() => (settled = true))
        // The claim waits on the lock (its session shows in pg_locks, not granted) …
        await vi.waitFor(async () => {
          const { rows } = await admin.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND NOT granted`, [0x6c696d74])
          expect(rows).toHaveLength(1)
        })
        expect(settled).toBe(false)
        await other.query('COMMIT')
        // … and, once the other commits, counts its 4 runs: what is left of the limit.
        expect(await claim).toHaveLength(expected)
      } finally {
        await other.query('ROLLBACK').catch(() => undefined)
        other.release()
        await store.close()
      }
    })

    it('applies migrations exactly once when five stores start on one schema at the same moment', async () => {
      const schema = newSchema()
      const stores = Array.from({ length: 5 }, () => open({ schema }))
      try {
        await Promise.all(stores.map((s) => s.ready()))
        const { rows } = await admin.query<{ version: number; n: string }>(`SELECT version, count(*) OVER () AS n FROM "${schema}".schema_migrations ORDER BY version`)
        expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version))
        const tables = await admin.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema])
        expect(tables.rows.map((r) => r.table_name)).toEqual(['artifacts', 'audit_log', 'bulk_jobs', 'flow_groups', 'logs', 'pools', 'rate_starts', 'rollup_state', 'run_rollups', 'run_rollups_hourly', 'runs', 'schedules', 'schema_migrations', 'sessions', 'settings', 'throttles', 'user_tokens', 'users', 'workers', 'workers_seen'])
        // They share it: what one inserts, another reads.
        const row = newRun()
        await stores[0]!.insertRuns([row])
        expect((await stores[4]!.getRun(row.id))?.id).toBe(row.id)
        // A store opened later finds everything applied and changes nothing.
        const late = open({ schema })
        await late.ready()
        await late.close()
        expect((await admin.query(`SELECT * FROM "${schema}".schema_migrations`)).rowCount).toBe(POSTGRES_MIGRATIONS.length)
      } finally {
        await Promise.all(stores.map((s) => s.close()))
      }
    })

    it('upgrades a version-2 schema with runs in it: migrations 3 to 5 keep every run working', async () => {
      const schema = newSchema()
      const client = await admin.connect()
      try {
        await migrate(client, schema, POSTGRES_MIGRATIONS.filter((m) => m.version <= 2))
        await client.query(versionTwoRows(`"${schema}".runs`))
      } finally {
        client.release()
      }
      const store = open({ schema })
      try {
        await store.ready()
        const { rows } = await admin.query<{ version: number }>(`SELECT max(version) AS version FROM "${schema}".schema_migrations`)
        expect(rows[0]?.version).toBe(POSTGRES_MIGRATIONS.at(-1)!.version)
        // Processes of the previous version keep their claim function during a rolling upgrade.
        const fns = await admin.query<{ proname: string }>(`SELECT proname FROM pg_proc WHERE pronamespace = $1::regnamespace ORDER BY proname`, [schema])
        expect(fns.rows.map((r) => r.proname)).toEqual(['claim_candidates', 'claim_candidates_ungrouped', 'claim_runs', 'claim_runs_by_tid', 'claim_runs_counted', 'claim_runs_limited', 'claim_runs_limited_traced', 'claim_runs_traced', 'claim_runs_unstarted'])
        await expectUpgradedRows(store)
      } finally {
        await store.close()
      }
    })

    it('a flush of several statements and a heartbeat over the same runs queue on each other instead of deadlocking', async () => {
      const schema = newSchema()
      const store = open({ schema })
      const other = await admin.connect()
      try {
        await store.insertRuns([newRun(), newRun()])
        const [low, high] = (await store.claimRuns(claimRequest())).sort((a, b) => (a.id < b.id ? -1 : 1))
        // Another transaction holds the lower run, so both of the worker's writes queue on it:
        // first the heartbeat (which, once it has that run, wants the higher one), then a flush
        // that writes the higher run (a hold) before the lower one (its completion).
        await other.query('BEGIN')
        await other.query(`SELECT 1 FROM "${schema}".runs WHERE id = $1 FOR UPDATE`, [low!.id])
        const waiting = async (n: number): Promise<boolean> =>
          Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%"${schema}".runs%'`)).rows[0]!.n) >= n
        const renewed = store.renewLeases('w', [low!, high!].map((r) => ({ id: r.id, token: r.token })), T0 + 60_000)
        await until(() => waiting(1), 5000, 'the heartbeat to wait')
        const flushed = store.writeBatch({ ...EMPTY, holds: [{ id: high!.id, token: high!.token }], completions: [{ id: low!.id, token: low!.token, status: 'succeeded', finishedAt: T0 + 5, error: null, progress: null, tags: [], attempt: { number: 1, workerId: 'w', startedAt: new Date(T0), finishedAt: new Date(T0 + 5), outcome: 'succeeded', error: null } }] })
        await until(() => waiting(2), 5000, 'the flush to wait')
        await other.query('COMMIT')
        const [renewal, flush] = await Promise.all([renewed, flushed])
        expect(flush.fenced).toEqual([])
        expect(renewal.lost).toEqual([])
        expect(await store.getRun(low!.id)).toMatchObject({ status: 'succeeded' })
        expect(await store.getRun(high!.id)).toMatchObject({ status: 'running', startedAt: null })
      } finally {
        await other.query('ROLLBACK').catch(() => undefined)
        other.release()
        await store.close()
      }
    })

    it('refuses a client that is not a pg client (the suite runs inserts through a real one)', async () => {
      const other = open()
      await expect(other.insertRuns([newRun()], { client: { notAClient: true } })).rejects.toThrow(/client: expected a pg client/)
      await other.close()
    })

    it('wakes a listener on another store instance (another pool) after an insert, a retry, and only on commit', async () => {
      const schema = newSchema()
      const writer = open({ schema })
      const listener = open({ schema })
      try {
        await Promise.all([writer.ready(), listener.ready()])
        const woken = new Watched(0)
        const off = listener.onRunsAvailable(() => woken.set(woken.value + 1))
        await listener.listening()
        await woken.until((n) => n >= 1, 'the wake-up after LISTEN starts', 2000) // LISTEN active: workers look once
        const before = woken.value
        await writer.insertRuns([newRun({ maxAttempts: 1 })])
        await woken.until((n) => n > before, 'the wake-up after an insert', 2000)

        // Through a caller's transaction: nothing until COMMIT. A session hears notifications in
        // the order their transactions committed, whatever the channel: once one sent after the
        // insert has arrived, any the insert had sent outside the caller's transaction would have
        // arrived before it.
        const marker = `${schema}_marker`
        const heard = new Watched<string[]>([])
        const watcher = await admin.connect()
        const client = await admin.connect()
        try {
          watcher.on('notification', (message) => heard.set([...heard.value, message.channel]))
          await watcher.query(`LISTEN "${schema}"; LISTEN "${marker}"`)
          await client.query('BEGIN')
          await writer.insertRuns([newRun()], { client })
          const held = woken.value
          await admin.query(`NOTIFY "${marker}"`)
          expect(await heard.until((channels) => channels.includes(marker), 'the marker', 2000)).toEqual([marker])
          expect(woken.value).toBe(held)
          await client.query('COMMIT')
          await woken.until((n) => n > held, 'the wake-up after COMMIT', 2000)
          expect(await heard.until((channels) => channels.length === 2, 'the NOTIFY of the commit', 2000)).toEqual([marker, schema])
        } finally {
          client.release()
          await watcher.query('UNLISTEN *').catch(() => undefined)
          watcher.release()
        }

        // A retried run wakes workers elsewhere too.
        const [claimed] = await writer.claimRuns(claimRequest({ limit: 1 }))
        await writer.writeBatch({ ...EMPTY, completions: [failed(claimed!)] })
        const beforeRetry = woken.value
        expect(await writer.retryRun(claimed!.id, T0 + 10)).toMatchObject({ status: 'pending' })
        await woken.until((n) => n > beforeRetry, 'the wake-up after a retry', 2000)
        off()
      } finally {
        await Promise.all([writer.close(), listener.close()])
      }
    })

    it('reconnects its LISTEN connection after it is killed, without crashing', async () => {
      const schema = newSchema()
      const errors = new Watched<Error[]>([])
      const writer = open({ schema })
      const listener = open({ schema, onError: (error) => errors.set([...errors.value, error]) })
      try {
        await Promise.all([writer.ready(), listener.ready()])
        const woken = new Watched(0)
        listener.onRunsAvailable(() => woken.set(woken.value + 1))
        await listener.listening()
        const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`, [`LISTEN "${schema}"`])
        expect(killed.rowCount).toBe(1)
        await errors.until((list) => list.some((e) => /connection lost/.test(e.message)), 'the listener to notice')
        await until(async () => (await admin.query(`SELECT 1 FROM pg_stat_activity WHERE query = $1`, [`LISTEN "${schema}"`])).rowCount === 1, 5000, 'LISTEN again')
        await listener.listening()
        const before = woken.value
        await writer.insertRuns([newRun()])
        await woken.until((n) => n > before, 'the wake-up after reconnecting', 2000)
      } finally {
        await Promise.all([writer.close(), listener.close()])
      }
    })

    it('survives its idle connections being killed: reports them, then works on new ones', async () => {
      const errors = new Watched<Error[]>([])
      const store = open({ onError: (error) => errors.set([...errors.value, error]) })
      await store.ready()
      const row = newRun()
      await Promise.all([store.insertRuns([row]), store.getRun(row.id), store.listRuns({})])
      const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`, [`%"${store.schema}".%`])
      expect(killed.rowCount).toBeGreaterThan(0)
      await errors.until((list) => list.length >= killed.rowCount!, 'the pool to report every lost connection')
      expect(errors.value[0]?.message).toMatch(/idle connection lost/)
      expect((await store.getRun(row.id))?.id).toBe(row.id)
      await store.close()
    })

    it('never gives one run to two store instances claiming concurrently', async () => {
      const schema = newSchema()
      const a = open({ schema })
      const b = open({ schema })
      try {
        await Promise.all([a.ready(), b.ready()])
        await a.insertRuns(Array.from({ length: 600 }, (_, i) => newRun({ task: i % 3 === 0 ? 'other' : 'work', priority: i % 5 })))
        const seen: string[] = []
        // Fast claims (no binding limit) and limited ones (rounds in a transaction) interleaved.
        const capped = (workerId: string) => claimRequest({ workerId, limit: 9, taskCaps: new Map([['work', 4]]) })
        for (;;) {
          const batches = await Promise.all([
            a.claimRuns(claimRequest({ workerId: 'a', limit: 7 })),
            b.claimRuns(claimRequest({ workerId: 'b', limit: 7 })),
            a.claimRuns(capped('a2')),
            b.claimRuns(capped('b2')),
          ])
          const got = batches.flat()
          if (got.length === 0) break
          seen.push(...got.map((c) => c.id))
        }
        expect(seen).toHaveLength(600)
        expect(new Set(seen).size).toBe(600)
      } finally {
        await Promise.all([a.close(), b.close()])
      }
    })

    it('claims in the same transaction as a flush, and respects limits there', async () => {
      const store = open()
      try {
        await store.insertRuns(Array.from({ length: 10 }, () => newRun()))
        const [first] = await store.claimRuns(claimRequest({ limit: 1 }))
        const outcome = await store.writeBatch({ ...EMPTY, completions: [succeeded(first!)], claim: claimRequest({ limit: 5, taskCaps: new Map([['work', 3]]) }) })
        expect(outcome.fenced).toEqual([])
        expect(outcome.claimed).toHaveLength(3)
        const fast = await store.writeBatch({ ...EMPTY, claim: claimRequest({ limit: 2 }) })
        expect(fast.claimed).toHaveLength(2)
        expect((await store.getRun(first!.id))?.status).toBe('succeeded')
      } finally {
        await store.close()
      }
    })

    it('stores what PostgreSQL text cannot hold: NUL characters, JSON strings that look like numbers', async () => {
      const store = open()
      try {
        const pool = await store.createPool({ id: randomUUID(), parentRunId: null, parentPoolId: null, label: null, now: T0 })
        await store.insertRuns([newRun({ args: '{"s":"a\\u0000b"}', poolId: pool.id })])
        const [run] = await store.claimRuns(claimRequest())
        expect(run?.args).toEqual({ s: 'a\u0000b' })
        const outcome = await store.writeBatch({
          ...EMPTY,
          logs: [{ runId: run!.id, token: run!.token, seq: 1, time: T0, level: 'info', message: 'nul:\u0000:' }],
          progress: [{ id: run!.id, token: run!.token, progress: { percent: 10, message: 'p\u0000' }, tags: ['t\u0000'] }],
        })
        expect(outcome.fenced).toEqual([])
        expect((await store.getLogs(run!.id, 0, 10))[0]?.message).toBe('nul:\ufffd:')
        expect(await store.poolCounts(pool.id)).toMatchObject({ total: 1, running: 1, progressSum: 0 })
        expect((await store.listRuns({ tag: 't\u0000' })).total).toBe(1)
        expect((await store.listRuns({ tag: 't' })).total).toBe(0)
        await store.writeBatch({ ...EMPTY, completions: [succeeded(run!, JSON.stringify('12'))] })
        expect(await store.getRun(run!.id)).toMatchObject({ status: 'succeeded', data: '12', tags: ['x\u0000'] })
      } finally {
        await store.close()
      }
    })

    it('refuses to work once closed', async () => {
      const store = open()
      await store.ready()
      await store.close()
      await expect(store.getRun('x')).rejects.toThrow(ConflictError)
    })
  })
})

function succeeded(run: ClaimedRun, data = '{"ok":true}') {
  return {
    id: run.id,
    token: run.token,
    status: 'succeeded' as const,
    finishedAt: T0 + 5,
    data,
    error: null,
    progress: null,
    tags: ['x\u0000'],
    attempt: { number: run.attempt, workerId: 'w', startedAt: new Date(T0), finishedAt: new Date(T0 + 5), outcome: 'succeeded' as const, error: null },
  }
}

function failed(run: ClaimedRun) {
  const error = { message: 'boom', code: 'ERR_HANDLER', name: 'Error' }
  const { data: _data, ...rest } = succeeded(run)
  return { ...rest, status: 'failed' as const, error, tags: [], attempt: { ...rest.attempt, outcome: 'failed' as const, error } }
}
