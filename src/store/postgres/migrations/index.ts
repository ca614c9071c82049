/**
 * The PostgreSQL migrations, in order (one file each), and the code that applies them.
 *
 * Every table lives in the store's schema. Migrations run inside one transaction holding a
 * transaction-level advisory lock keyed by the schema name, so processes starting together
 * apply each migration exactly once (the others wait on the lock, then find it applied).
 * Never edit a released migration: add the next number.
 *
 * Column choices mirror the SQLite schema: times are epoch milliseconds in BIGINT columns;
 * structured values are `json`, not `jsonb`. `json` keeps the exact text written (the hot path
 * pays a validation, not a conversion: about a third of `jsonb`'s cost on insert) and accepts
 * every string JSON can carry, `\u0000` included, which `jsonb` rejects: a handler returning such
 * a string would otherwise make its completion, and the batch it travels in, fail forever.
 */
import type pg from 'pg'
import type { Migration } from '../../sql/migration.js'
import { migration001 } from './001-runs.js'
import { migration002 } from './002-schedules-settings.js'
import { migration003 } from './003-fire-keys-finished-runs-unstarted-claims.js'
import { migration004 } from './004-counted-claims.js'
import { migration005 } from './005-flow-control.js'
import { migration006 } from './006-bulk-jobs.js'
import { migration007 } from './007-rollups.js'
import { migration008 } from './008-worker-commands.js'
import { migration009 } from './009-trace-context.js'
import { migration010 } from './010-cancelled-by.js'
import { migration011 } from './011-in-process-runs.js'
import { migration012 } from './012-users-audit.js'
import { migration013 } from './013-request-ids.js'
import { migration015 } from './015-workers-seen.js'
import { migration017 } from './017-purge-deleted-runs.js'
import { migration018 } from './018-claims-by-tid.js'

export type { Migration }

/** Every PostgreSQL migration, in order. */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006, migration007, migration008, migration009, migration010, migration011, migration012, migration013, migration015, migration017, migration018]

/** First key of the migration lock (`'task'` in ASCII); the second is a hash of the schema name. */
const LOCK_CLASS = 0x7461736b

/** Applies the missing migrations to `schema` (a validated identifier) through `client`. */
export async function migrate(client: pg.ClientBase, schema: string, migrations: readonly Migration[] = POSTGRES_MIGRATIONS): Promise<void> {
  const quoted = `"${schema}"`
  const latest = Math.max(...migrations.map((m) => m.version))
  // Fast path, without a lock or DDL (so roles without CREATE can use a migrated schema).
  const found = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [`${quoted}.schema_migrations`])
  if (found.rows[0]?.exists === true) {
    const top = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${quoted}.schema_migrations`)
    if ((top.rows[0]?.version ?? 0) >= latest) return
  }
  await client.query('BEGIN')
  try {
    // Held until COMMIT: a process starting meanwhile waits here, then finds everything applied.
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, schema])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`)
    await client.query(`SET LOCAL search_path TO ${quoted}`)
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)')
    const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version))
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue
      await client.query(migration.sql)
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [migration.version, migration.name, Date.now()])
    }
    await client.query('COMMIT')
  } catch (error) {
    // The migration's error is the one to report; a failed ROLLBACK only means the connection is
    // gone, and the caller destroys a client whose migration failed.
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}
