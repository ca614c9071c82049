/** The audit trail (see `../contract/audit.ts`). */
import type { AuditFilter, AuditPage, NewAuditEntry } from '../contract/audit.js'
import { AUDIT_COLUMNS, auditCountSql, auditFilterSql, auditPage, auditValues, type AuditCountQuery, type AuditRow } from '../sql/audit-rows.js'
import type { SqliteConnection } from './connection.js'
import { namedBinder } from './dialect.js'

const INSERT_AUDIT = `INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES (${AUDIT_COLUMNS.split(', ').map(() => '?').join(', ')})`

export function appendAudit(db: SqliteConnection, entries: readonly NewAuditEntry[]): void {
  if (entries.length === 0) return
  const insert = db.stmt(INSERT_AUDIT)
  db.write(() => {
    for (const entry of entries) insert.run(auditValues(entry))
  })
}

export function listAudit(db: SqliteConnection, filter: AuditFilter): AuditPage {
  const binder = namedBinder()
  const { where, limit, fetch } = auditFilterSql(filter, binder)
  const rows = db.stmt(`SELECT ${AUDIT_COLUMNS} FROM audit_log ${where} ORDER BY id DESC LIMIT ${fetch}`).all(binder.snapshot()) as AuditRow[]
  return auditPage(rows, limit)
}

export function countAudit(db: SqliteConnection, query: AuditCountQuery): number {
  const binder = namedBinder()
  const sql = auditCountSql('audit_log', query, binder)
  return (db.stmt(sql).get(binder.snapshot()) as { n: number }).n
}

export function purgeAudit(db: SqliteConnection, before: number, limit: number): number {
  // Oldest first through the index on at, so a limited purge removes the oldest entries.
  return db.stmt(`DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY at, id LIMIT ?)`).run(before, Math.max(0, Math.floor(limit))).changes
}
