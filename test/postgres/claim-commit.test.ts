/**
 * Which PostgreSQL writes wait for their WAL flush (PostgresStoreOptions.synchronous): with
 * `full` (the default) every write waits; with `normal` a claim alone commits without waiting,
 * and nothing else does. Observed on the server: the store is given a pool
 * whose `query` runs each statement in a transaction of its own and reads, before committing,
 * the `synchronous_commit` that statement left for its commit.
 */
import pg from 'pg'
import { expect, it } from 'vitest'
import { createEngine, defineTask } from '../../src/index.js'
import { postgresStore } from '../../src/store/postgres/index.js'
import { describePostgres } from '../helpers/postgres.js'
import { runReaches } from '../helpers/runs.js'

interface Seen {
  readonly text: string
  readonly commit: string
}

/** A pool whose one-statement queries report the `synchronous_commit` they commit with. */
function watchingPool(url: string): { pool: pg.Pool; seen: Seen[]; watch: () => void } {
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  pool.on('error', () => undefined)
  const seen: Seen[] = []
  const watched = async (config: pg.QueryConfig): Promise<pg.QueryResult> => {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      const result = await client.query(config)
      const setting = await client.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s")
      await client.query('COMMIT')
      seen.push({ text: config.text, commit: setting.rows[0]!.s })
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  }
  // Migrations run first on the plain pool; then every one-statement query is watched.
  return { pool, seen, watch: () => void Object.assign(pool, { query: watched }) }
}

const noop = defineTask({ key: 'noop', run: () => 'done' })

await describePostgres('postgres claims and the WAL flush', ({ url, newSchema }) => {
  async function processRuns(synchronous: 'normal' | 'full' | undefined): Promise<Seen[]> {
    const { pool, seen, watch } = watchingPool(url)
    const store = postgresStore({ pool, schema: newSchema(), onError: () => undefined, ...(synchronous === undefined ? {} : { synchronous }) })
    const engine = createEngine({ tasks: [noop], store })
    try {
      await store.ready()
      watch()
      await engine.start({ concurrency: 4 })
      // One at a time (each a claim alone), then a batch (completions and claims together).
      for (let i = 0; i < 5; i++) {
        const run = await engine.enqueue(noop, {})
        expect((await runReaches(engine, run.id, 'succeeded', 15_000)).data).toBe('done')
      }
      const runs = await engine.enqueueMany(noop, Array.from({ length: 40 }, () => ({})))
      for (const run of runs) expect((await runReaches(engine, run.id, 'succeeded', 15_000)).status).toBe('succeeded')
    } finally {
      await engine.close()
      await store.close()
      await pool.end()
    }
    return seen
  }

  it("with synchronous: 'normal', a claim alone commits without waiting for the flush, and no other write does", async () => {
    const seen = await processRuns('normal')
    const claims = seen.filter((s) => s.text.includes('claim_runs_by_tid'))
    const alone = claims.filter((s) => !s.text.includes('WITH done'))
    expect(alone.length).toBeGreaterThan(0)
    expect(alone.map((s) => s.commit)).toEqual(alone.map(() => 'off'))
    const unflushed = seen.filter((s) => s.commit !== 'on')
    // Everything else (the enqueues, completions with the claim riding on them, heartbeats) waits for the flush.
    expect(unflushed.every((s) => s.text.includes('claim_runs_by_tid') && !s.text.includes('WITH done'))).toBe(true)
    expect(seen.some((s) => s.commit === 'on' && /INSERT INTO/i.test(s.text))).toBe(true)
    expect(seen.filter((s) => s.text.includes('WITH done')).every((s) => s.commit === 'on')).toBe(true)
  })

  for (const synchronous of [undefined, 'full'] as const) {
    it(`${synchronous === undefined ? 'by default' : "with synchronous: 'full'"}, every write waits for the flush`, async () => {
      const seen = await processRuns(synchronous)
      expect(seen.some((s) => s.text.includes('claim_runs_by_tid'))).toBe(true)
      expect(seen.filter((s) => s.commit !== 'on')).toEqual([])
    })
  }

  it('refuses a synchronous setting it does not know, naming it', () => {
    expect(() => postgresStore({ connectionString: url, synchronous: 'off' as never })).toThrow("synchronous: expected 'normal' or 'full', got \"off\" (string)")
  })
})
