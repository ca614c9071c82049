/** Runtime settings: JSON values by key. */
import type { PostgresConnection } from './connection.js'

/** The stored settings. */
export async function getSettings(conn: PostgresConnection): Promise<Record<string, unknown>> {
  const db = await conn.db()
  const rows = await conn.query<{ key: string; value: string }>(db, `SELECT key, value FROM ${conn.tables.settings}`, [])
  return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value) as unknown]))
}

/** Stores settings, replacing those keys, in one statement. */
export async function saveSettings(conn: PostgresConnection, values: Readonly<Record<string, unknown>>, now: number): Promise<void> {
  const db = await conn.db()
  const entries = Object.entries(values)
  if (entries.length === 0) return
  await conn.query(
    db,
    `INSERT INTO ${conn.tables.settings} (key, value, updated_at) SELECT k, v::json, $3 FROM unnest($1::text[], $2::text[]) AS u(k, v)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    [entries.map(([k]) => k), entries.map(([, v]) => JSON.stringify(v)), now],
  )
}
