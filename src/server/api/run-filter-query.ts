/** The filters of run lists as query parameters, read by one rule for `GET /api/runs`, bulk jobs' filters and the admin UI. */
import { RUN_STATES, type RunFilter, type RunState } from '../../store/types.js'
import type { QueryReader } from '../query.js'

/** The names of the filter parameters, as URLs and bodies carry them. */
export const RUN_FILTER_PARAMS = ['task', 'status', 'queue', 'label', 'tag', 'createdBy', 'search', 'pool', 'from', 'to'] as const

/**
 * The filters of a run list (not its paging): task, status (a list), queue, label, tag,
 * createdBy, search, pool, from, to. The query's other checks (unknown names, bad values) come
 * with `query.done()`.
 */
export function readRunFilter(query: QueryReader): RunFilter {
  const filter: { -readonly [K in keyof RunFilter]: RunFilter[K] } = {}
  const status = query.list<RunState>('status', RUN_STATES)
  if (status !== undefined) filter.status = status
  for (const [param, key] of [
    ['task', 'task'],
    ['queue', 'queue'],
    ['label', 'label'],
    ['tag', 'tag'],
    ['createdBy', 'createdBy'],
    ['search', 'search'],
    ['pool', 'poolId'],
  ] as const) {
    const value = query.string(param)
    if (value !== undefined) filter[key] = value
  }
  const from = query.time('from')
  const to = query.time('to')
  if (from !== undefined) filter.from = from
  if (to !== undefined) filter.to = to
  return filter
}

