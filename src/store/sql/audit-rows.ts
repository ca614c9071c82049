/**
 * Rows of the `audit_log` table ↔ audit entries, and the statements both SQL backends build
 * alike: the filter of a page (newest first, keyset by id) and the throttle's count.
 */
import { ValidationError, describeValue } from '../../errors.js'
import type { AuditActorKind, AuditEntry, AuditFilter, NewAuditEntry } from '../contract/audit.js'
import { date, fromJson, jsonOrNull } from './columns.js'
import type { Binder } from './dialect.js'

/** A row of `audit_log` as a driver returns it. */
export interface AuditRow {
  id: string
  at: number | string
  actor: string
  actor_kind: string
  token_name: string | null
  via: string
  address: string | null
  user_agent: string | null
  action: string
  target: string | null
  before_json: unknown
  after_json: unknown
  details_json: unknown
}

/** The columns of an entry, named (PostgreSQL prepares statements once). */
export const AUDIT_COLUMNS = 'id, at, actor, actor_kind, token_name, via, address, user_agent, action, target, before_json, after_json, details_json'

/** Entries in a page by default ({@link AuditFilter.limit}). */
export const DEFAULT_AUDIT_LIMIT = 50
/** The most entries in a page. */
export const MAX_AUDIT_LIMIT = 1000

/** Maps an `audit_log` row to an {@link AuditEntry}; JSON columns that are NULL read back as `null`. */
export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: date(row.at),
    actor: row.actor,
    actorKind: row.actor_kind as AuditActorKind,
    tokenName: row.token_name,
    via: row.via,
    address: row.address,
    userAgent: row.user_agent,
    action: row.action,
    target: row.target,
    before: fromJson(row.before_json),
    after: fromJson(row.after_json),
    details: fromJson(row.details_json),
  }
}

/** An entry's values in {@link AUDIT_COLUMNS} order, JSON as text (`null` staying SQL NULL). */
export function auditValues(entry: NewAuditEntry): [string, number, string, string, string | null, string, string | null, string | null, string, string | null, string | null, string | null, string | null] {
  return [
    entry.id,
    entry.at,
    entry.actor,
    entry.actorKind,
    entry.tokenName,
    entry.via,
    entry.address,
    entry.userAgent,
    entry.action,
    entry.target,
    jsonOrNull(entry.before),
    jsonOrNull(entry.after),
    jsonOrNull(entry.details),
  ]
}

/** A filter's time as epoch ms; an invalid `Date` is refused, naming the key. */
function epochMs(key: string, value: Date): number {
  const ms = value instanceof Date ? value.getTime() : NaN
  if (!Number.isFinite(ms)) throw new ValidationError(`${key}: expected a valid Date, got ${describeValue(value)}`)
  return ms
}

/**
 * The WHERE clause of a page of entries, and how many rows to fetch (one more than the page: a
 * row past it means there may be more). An action ending in `.` is a prefix, matched as the
 * range [`run.`, `run/`) — `/` follows `.` — which an index serves and in which `_` and `%`
 * are plain characters (the columns compare bytewise in both backends).
 */
export function auditFilterSql(filter: AuditFilter, binder: Binder<unknown>): { readonly where: string; readonly limit: number; readonly fetch: number } {
  const clauses: string[] = []
  if (filter.actor !== undefined) clauses.push(`actor = ${binder.bind(filter.actor)}`)
  if (filter.action !== undefined) {
    if (filter.action.endsWith('.')) {
      clauses.push(`action >= ${binder.bind(filter.action)} AND action < ${binder.bind(`${filter.action.slice(0, -1)}/`)}`)
    } else {
      clauses.push(`action = ${binder.bind(filter.action)}`)
    }
  }
  if (filter.target !== undefined) clauses.push(`target = ${binder.bind(filter.target)}`)
  if (filter.from !== undefined) clauses.push(`at >= ${binder.bind(epochMs('from', filter.from))}`)
  if (filter.to !== undefined) clauses.push(`at < ${binder.bind(epochMs('to', filter.to))}`)
  if (filter.before !== undefined) clauses.push(`id < ${binder.bind(filter.before)}`)
  const limit = Math.min(MAX_AUDIT_LIMIT, Math.max(1, Math.floor(filter.limit ?? DEFAULT_AUDIT_LIMIT)))
  return { where: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, limit, fetch: limit + 1 }
}

/** A page from the rows fetched (at most one past the page): `next` is the page's last id when that row was there. */
export function auditPage(rows: readonly AuditRow[], limit: number): { readonly entries: AuditEntry[]; readonly next: string | null } {
  const entries = rows.slice(0, limit).map(toAuditEntry)
  return { entries, next: rows.length > limit ? (entries.at(-1)?.id ?? null) : null }
}

/** What {@link auditCountSql} counts (see `AuditStore.countAudit`). */
export interface AuditCountQuery {
  readonly action: string
  readonly since: number
  readonly target?: string
  readonly address?: string
}

/**
 * Counts `action` entries at or after `since` for a target and/or an address: with both, an
 * entry must match both. Neither is refused (it would count every sign-in failure anywhere).
 */
export function auditCountSql(table: string, query: AuditCountQuery, binder: Binder<unknown>): string {
  if (query.target === undefined && query.address === undefined) {
    throw new ValidationError(`countAudit: expected a target or an address (or both), got neither for action ${describeValue(query.action)}`)
  }
  const clauses = [`action = ${binder.bind(query.action)}`, `at >= ${binder.bind(query.since)}`]
  if (query.target !== undefined) clauses.push(`target = ${binder.bind(query.target)}`)
  if (query.address !== undefined) clauses.push(`address = ${binder.bind(query.address)}`)
  return `SELECT count(*) AS n FROM ${table} WHERE ${clauses.join(' AND ')}`
}
