/** Runtime settings: JSON values by key. */
import type { SqliteConnection } from './connection.js'

/** The stored settings. */
export function getSettings(db: SqliteConnection): Record<string, unknown> {
  const rows = db.stmt('SELECT key, value FROM settings').all() as { key: string; value: string }[]
  return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value) as unknown]))
}

/** Stores settings, replacing those keys, in one transaction. */
export function saveSettings(db: SqliteConnection, values: Readonly<Record<string, unknown>>, now: number): void {
  const save = db.stmt('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
  db.write(() => {
    for (const [key, value] of Object.entries(values)) save.run(key, JSON.stringify(value), now)
  })
}
