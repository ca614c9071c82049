/**
 * The runs list's filter as the admin UI's URLs carry it: the same names and rules as
 * `GET /api/runs` (one reader, `api/run-filter-query.ts`), so a bad value (`?status=bogus`) is
 * an error the page shows, never silently dropped: a list or a bulk action over "everything"
 * because one value was ignored would be worse than no list. Times without a zone
 * (`datetime-local` inputs) are UTC.
 */
import type { FieldIssue } from '../../errors.js'
import { RUN_SORTS, type RunFilter, type RunSort } from '../../store/types.js'
import { RUN_FILTER_PARAMS, readRunFilter } from '../api/run-filter-query.js'
import { HttpError } from '../http-errors.js'
import { QueryReader } from '../query.js'
import type { AdminContext } from './page.js'

/** Filter values as they appear in the URL. */
export type FilterParams = Readonly<Record<string, string>>

export const FILTER_PARAMS = RUN_FILTER_PARAMS

/** The filter parameters of a request (the first value of each; empty ones left out). */
export function filterParams(c: AdminContext): FilterParams {
  const out: Record<string, string> = {}
  for (const name of FILTER_PARAMS) {
    const value = c.req.query(name)
    if (value !== undefined && value !== '') out[name] = value
  }
  return out
}

/** A filter read from URL parameters, or what is wrong with them (`issues`, each naming its parameter). */
export interface ParsedFilter {
  /** The filter (without paging); empty when there are issues. */
  readonly filter: RunFilter
  readonly issues: readonly FieldIssue[]
}

/** Reads URL parameters by the API's rules. */
export function parseFilterParams(params: FilterParams): ParsedFilter {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) search.set(name, (name === 'from' || name === 'to') && /T\d\d:\d\d(:\d\d)?$/.test(value) ? `${value}Z` : value)
  const query = new QueryReader(search)
  const filter = readRunFilter(query)
  try {
    query.done()
  } catch (error) {
    if (error instanceof HttpError && error.fields !== undefined) return { filter: {}, issues: error.fields }
    throw error
  }
  return { filter, issues: [] }
}

/** The list's order from `?sort=` (`-created` when absent), or an issue naming the bad value. */
export function sortParam(text: string | undefined): { readonly sort: RunSort; readonly issue?: FieldIssue } {
  if (text === undefined || text === '') return { sort: '-created' }
  if ((RUN_SORTS as readonly string[]).includes(text)) return { sort: text as RunSort }
  const received = JSON.stringify(text)
  return { sort: '-created', issue: { key: 'sort', expected: RUN_SORTS.join(', '), received, message: `sort: expected one of ${RUN_SORTS.join(', ')}, got ${received}` } }
}
