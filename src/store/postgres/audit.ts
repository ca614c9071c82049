/** The audit trail (see `../contract/audit.ts`). */
import type { AuditFilter, AuditPage, NewAuditEntry } from '../contract/audit.js'
import { AUDIT_COLUMNS, auditCountSql, auditFilterSql, auditPage, auditValues, type AuditCountQuery, type AuditRow } from '../sql/audit-rows.js'
import { TYPES, type PostgresConnection } from './connection.js'
import { positionalBinder } from './dialect.js'

/** The array type each column of {@link AUDIT_COLUMNS} travels in (JSON as text, cast on insert). */
const ARRAY_TYPES = ['text', 'bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text']

export async function appendAudit(conn: PostgresConnection, entries: readonly NewAuditEntry[]): Promise<void> {
  if (entries.length === 0) return
  const db = await conn.db()
  // One statement, so the entries are written together or not at all; rows travel as one array per column.
  const rows = entries.map(auditValues)
  const columns = ARRAY_TYPES.map((_, i) => rows.map((row) => row[i] ?? null))
  const unnest = ARRAY_TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ')
  await conn.query(
    db,
    `INSERT INTO ${conn.tables.auditLog} (${AUDIT_COLUMNS})
     SELECT id, at, actor, actor_kind, token_name, via, address, user_agent, action, target, b::json, a::json, d::json
     FROM unnest(${unnest}) AS u(id, at, actor, actor_kind, token_name, via, address, user_agent, action, target, b, a, d)`,
    columns,
  )
}

export async function listAudit(conn: PostgresConnection, filter: AuditFilter): Promise<AuditPage> {
  const db = await conn.db()
  const binder = positionalBinder()
  const { where, limit, fetch } = auditFilterSql(filter, binder)
  const result = await db.query<AuditRow>({ text: `SELECT ${AUDIT_COLUMNS} FROM ${conn.tables.auditLog} ${where} ORDER BY id DESC LIMIT ${fetch}`, values: binder.snapshot(), types: TYPES })
  return auditPage(result.rows, limit)
}

export async function countAudit(conn: PostgresConnection, query: AuditCountQuery): Promise<number> {
  const binder = positionalBinder()
  const text = auditCountSql(conn.tables.auditLog, query, binder)
  const db = await conn.db()
  // Named: sign-in asks this on every attempt, in one of three shapes.
  const result = await db.query<{ n: number }>(conn.named(text, binder.snapshot()))
  return Number(result.rows[0]?.n ?? 0)
}

export async function purgeAudit(conn: PostgresConnection, before: number, limit: number): Promise<number> {
  const db = await conn.db()
  // Oldest first through the index on at, so a limited purge removes the oldest entries.
  const sql = `DELETE FROM ${conn.tables.auditLog} WHERE id IN (SELECT id FROM ${conn.tables.auditLog} WHERE at < $1 ORDER BY at, id LIMIT $2)`
  const result = await db.query(conn.named(sql, [before, Math.max(0, Math.floor(limit))]))
  return result.rowCount ?? 0
}
