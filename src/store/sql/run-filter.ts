/**
 * The WHERE clause of run lists (`listRuns`), the same in both SQL backends but for a few
 * dialect pieces, and the clamp of the page and its size.
 */
import { ValidationError } from '../../errors.js'
import type { RunFilter, RunSort } from '../contract/runs.js'
import type { Binder, SqlDialect } from './dialect.js'

/** Filters that compare one column with one value: filter key → column. */
const EQUAL_FILTERS = [
  ['task', 'task'],
  ['queue', 'queue'],
  ['label', 'label'],
  ['poolId', 'pool_id'],
  ['parentId', 'parent_id'],
  ['scheduleId', 'schedule_id'],
  ['createdBy', 'created_by'],
  ['category', 'category'],
] as const

/** The clauses of a run list: with the cursor (`before`) for the page, without it for the count. */
export interface RunFilterSql<P> {
  /** `WHERE …` (or `''`) for the total: every filter but the cursor. */
  readonly countWhere: string
  /** The values of {@link countWhere}. */
  readonly countParams: P
  /** `WHERE …` (or `''`) for the page. */
  readonly where: string
  /** The values of {@link where}. */
  readonly params: P
}

/**
 * The runs a `scanLimit` lets a list examine, by the column holding creation order (SQLite:
 * `seq`, PostgreSQL: `id`): from `from` (inclusive), below `below` when a cursor set it.
 */
export interface ScanWindow {
  readonly column: string
  readonly from: unknown
  readonly below: unknown
}

/** Builds the WHERE clauses of `filter` for `dialect`, binding values with `binder`; `window` bounds both the page and the count. */
export function runFilterSql<P>(filter: RunFilter, dialect: SqlDialect, binder: Binder<P>, window?: ScanWindow): RunFilterSql<P> {
  const where: string[] = []
  if (window !== undefined) {
    if (window.from !== undefined) where.push(`${window.column} >= ${binder.bind(window.from)}`)
    if (window.below !== undefined) where.push(`${window.column} < ${binder.bind(window.below)}`)
  }
  if (filter.includeDeleted !== true) where.push('deleted_at IS NULL')
  if (filter.status !== undefined) where.push(dialect.oneOf('status', typeof filter.status === 'string' ? [filter.status] : filter.status, binder))
  for (const [key, column] of EQUAL_FILTERS) {
    const value = filter[key]
    if (value !== undefined) where.push(`${column} = ${binder.bind(value)}`)
  }
  if (filter.tag !== undefined) where.push(dialect.hasTag(filter.tag, binder))
  if (filter.from !== undefined) where.push(`created_at >= ${binder.bind(filter.from.getTime())}`)
  if (filter.to !== undefined) where.push(`created_at < ${binder.bind(filter.to.getTime())}`)
  if (filter.search !== undefined && filter.search !== '') {
    const search = binder.bind(`%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
    where.push(`(${['id', 'task', 'label', 'args'].map((column) => dialect.like(column, search)).join(' OR ')})`)
  }
  const countWhere = where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
  const countParams = binder.snapshot()
  if (filter.before !== undefined) where.push(dialect.olderThan(filter.before, binder))
  return { countWhere, countParams, where: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', params: binder.snapshot() }
}

/**
 * The count query of a list: every matching run, or at most `countLimit` of them (the inner LIMIT
 * stops the scan there).
 */
export function countSql(table: string, countWhere: string, countLimit: number | undefined): string {
  if (countLimit === undefined) return `SELECT count(*) AS n FROM ${table} ${countWhere}`
  if (!Number.isSafeInteger(countLimit) || countLimit < 1) throw new ValidationError(`countLimit: expected a positive integer, got ${String(countLimit)}`)
  return `SELECT count(*) AS n FROM (SELECT 1 FROM ${table} ${countWhere} LIMIT ${countLimit}) AS matching`
}

/** The page of a list: number from 1, size 1–1000 (default 50), and the rows to skip. */
export function pageOf(filter: Pick<RunFilter, 'page' | 'pageSize'>): { readonly page: number; readonly pageSize: number; readonly offset: number } {
  const page = Math.max(1, Math.floor(filter.page ?? 1))
  const pageSize = Math.min(1000, Math.max(1, Math.floor(filter.pageSize ?? 50)))
  return { page, pageSize, offset: (page - 1) * pageSize }
}

/**
 * The ORDER BY of a run list for `sort` (default `-created`); `created` is the column holding
 * creation order (SQLite: `seq`, PostgreSQL: `id`), also the tie-breaker, so offset paging stays
 * stable. Runs not finished sort after finished ones either way.
 */
export function runOrderSql(sort: RunSort | undefined, created: string): string {
  switch (sort ?? '-created') {
    case 'created':
      return `${created} ASC`
    case 'due':
      return `run_at ASC, ${created} ASC`
    case '-due':
      return `run_at DESC, ${created} DESC`
    case 'finished':
      return `finished_at ASC NULLS LAST, ${created} ASC`
    case '-finished':
      return `finished_at DESC NULLS LAST, ${created} DESC`
    default:
      return `${created} DESC`
  }
}

/** Refuses a cursor (`before`) or a bounded scan (`scanLimit`) with an order it does not walk. */
export function checkSortAndCursor(filter: RunFilter): void {
  if (filter.sort === undefined || filter.sort === '-created') return
  if (filter.before !== undefined) throw new ValidationError(`before: walks the default order (sort -created) only, got sort ${JSON.stringify(filter.sort)}`)
  if (filter.scanLimit !== undefined) throw new ValidationError(`scanLimit: examines the newest runs in the default order (sort -created) only, got sort ${JSON.stringify(filter.sort)}`)
}

/**
 * The WHERE clause of a bulk job's next batch: the run filter (paging and sort left out), then
 * `after < id <= upTo` by id.
 */
export function bulkSelectionSql<P>(filter: RunFilter, upTo: string, after: string | null, dialect: SqlDialect, binder: Binder<P>): { readonly where: string; readonly params: P } {
  const { sort: _sort, before: _before, page: _page, pageSize: _pageSize, ...rest } = filter
  const base = runFilterSql(rest, dialect, binder)
  const bounds = [`id <= ${binder.bind(upTo)}`]
  if (after !== null) bounds.push(`id > ${binder.bind(after)}`)
  const where = base.countWhere === '' ? `WHERE ${bounds.join(' AND ')}` : `${base.countWhere} AND ${bounds.join(' AND ')}`
  return { where, params: binder.snapshot() }
}
