/**
 * The SQLite migrations, in order, and the code that applies them: each once, inside an
 * IMMEDIATE transaction, so processes starting together on one file apply them exactly once.
 * Never edit a released migration: add the next number (a file of its own, listed here).
 */
import type Database from 'better-sqlite3'
import type { Migration } from '../../sql/migration.js'
import { migration001 } from './001-runs.js'
import { migration002 } from './002-schedules-settings.js'
import { migration003 } from './003-fire-keys-finished-runs.js'
import { migration004 } from './004-flow-control.js'
import { migration005 } from './005-bulk-jobs.js'
import { migration006 } from './006-rollups.js'
import { migration007 } from './007-worker-commands.js'
import { migration008 } from './008-trace-context.js'
import { migration009 } from './009-cancelled-by.js'
import { migration010 } from './010-in-process-runs.js'
import { migration011 } from './011-users-audit.js'
import { migration012 } from './012-request-ids.js'
import { migration014 } from './014-workers-seen.js'
import { migration016 } from './016-deleted-runs.js'
import { migration017 } from './017-failed-runs.js'

export type { Migration }

/** Every SQLite migration, in order. */
export const SQLITE_MIGRATIONS: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006, migration007, migration008, migration009, migration010, migration011, migration012, migration014, migration016, migration017]

/** Applies the migrations `db` has not applied yet. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = SQLITE_MIGRATIONS): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)')
  db.transaction(() => {
    const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version))
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue
      db.exec(migration.sql)
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, Date.now())
    }
  }).immediate()
}
