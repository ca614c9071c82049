/**
 * PostgreSQL for tests: the server address (TASKENGINE_TEST_PG, default
 * postgres://postgres@127.0.0.1:5432/test), a fresh schema per test, and the rule for a missing
 * server: outside CI the suite is skipped with a loud warning; with CI=true it fails.
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, describe, it } from 'vitest'
import { postgresStore, type PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/index.js'

export const PG_URL = process.env.TASKENGINE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test'

/** The server address without credentials, for messages. */
export function redacted(url: string): string {
  try {
    const parsed = new URL(url)
    parsed.password = ''
    return parsed.toString()
  } catch {
    return '(unparsable TASKENGINE_TEST_PG)'
  }
}

/** `true`, or why the server cannot be used. */
async function probe(url: string): Promise<true | string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch (error) {
    return (error as Error).message
  } finally {
    await client.end().catch(() => undefined)
  }
}

let reachable: Promise<true | string> | undefined

/** What a PostgreSQL test file gets: schemas it may use (dropped after the file) and an admin pool. */
export interface PostgresTestKit {
  readonly url: string
  readonly admin: pg.Pool
  /** A fresh schema name, dropped after the file. */
  readonly newSchema: () => string
  /** A store on `schema` (a fresh one by default) that keeps connection errors quiet. */
  readonly open: (options?: Partial<PostgresStoreOptions>) => PostgresStore
  /** A `--store` URL for the CLI naming `schema`. */
  readonly storeUrl: (schema: string) => string
}

/**
 * Declares a PostgreSQL suite: `body` runs with a kit when the server answers; otherwise the
 * suite is skipped with a warning, or fails when CI=true.
 */
export async function describePostgres(name: string, body: (kit: PostgresTestKit) => void): Promise<void> {
  reachable ??= probe(PG_URL)
  const status = await reachable
  if (status !== true) {
    if (process.env.CI === 'true') {
      describe(name, () => {
        it('reaches PostgreSQL (required in CI)', () => {
          throw new Error(`PostgreSQL at ${redacted(PG_URL)} is unreachable and CI=true: ${status}`)
        })
      })
      return
    }
    console.warn(
      `\n!!! SKIPPING "${name}": PostgreSQL at ${redacted(PG_URL)} is unreachable (${status}).\n` +
        '!!! Start PostgreSQL or set TASKENGINE_TEST_PG; with CI=true this fails instead of skipping.\n',
    )
    describe.skip(`${name} (SKIPPED: PostgreSQL at ${redacted(PG_URL)} unreachable)`, () => {
      it('needs a PostgreSQL server', () => undefined)
    })
    return
  }

  const admin = new pg.Pool({ connectionString: PG_URL, max: 4 })
  admin.on('error', () => undefined)
  const schemas: string[] = []
  afterAll(async () => {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.end()
  })
  const newSchema = (): string => {
    const schema = `te_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`
    schemas.push(schema)
    return schema
  }
  const kit: PostgresTestKit = {
    url: PG_URL,
    admin,
    newSchema,
    open: (options = {}) => postgresStore({ connectionString: PG_URL, schema: options.schema ?? newSchema(), onError: () => undefined, ...options }),
    storeUrl: (schema) => {
      const url = new URL(PG_URL)
      url.searchParams.set('schema', schema)
      return url.toString()
    },
  }
  describe(name, () => body(kit))
}
