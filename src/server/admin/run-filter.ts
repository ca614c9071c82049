/**
 * The runs list's filter as the admin UI's URLs carry it (the same names as the API's), read
 * leniently: people reach these pages by links, so a bad value is left out, never an error.
 */
import { RUN_STATES, type Run, type RunFilter } from '../../store/types.js'
import type { AdminContext } from './page.js'

/** Filter values as they appear in the URL. */
export type FilterParams = Readonly<Record<string, string>>

export const FILTER_PARAMS = ['task', 'status', 'queue', 'label', 'tag', 'createdBy', 'search', 'from', 'to', 'pool'] as const

/** The filter parameters of a request (the first value of each; empty ones left out). */
export function filterParams(c: AdminContext): FilterParams {
  const out: Record<string, string> = {}
  for (const name of FILTER_PARAMS) {
    const value = c.req.query(name)
    if (value !== undefined && value !== '') out[name] = value
  }
  return out
}

/** The run list filter from URL parameters. Times without a zone (`datetime-local` inputs) are UTC. */
export function filterFromParams(params: FilterParams, page: number, pageSize: number): RunFilter {
  const filter: { -readonly [K in keyof RunFilter]: RunFilter[K] } = { page, pageSize }
  if (params.task !== undefined) filter.task = params.task
  if (params.status !== undefined && (RUN_STATES as readonly string[]).includes(params.status)) filter.status = params.status as Run['status']
  if (params.queue !== undefined) filter.queue = params.queue
  if (params.label !== undefined) filter.label = params.label
  if (params.tag !== undefined) filter.tag = params.tag
  if (params.createdBy !== undefined) filter.createdBy = params.createdBy
  if (params.search !== undefined) filter.search = params.search
  if (params.pool !== undefined) filter.poolId = params.pool
  for (const key of ['from', 'to'] as const) {
    const text = params[key]
    if (text === undefined) continue
    const date = new Date(/T\d\d:\d\d$/.test(text) ? `${text}Z` : text)
    if (!Number.isNaN(date.getTime())) filter[key] = date
  }
  return filter
}
