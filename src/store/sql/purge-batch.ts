/**
 * The size of one retention batch, the same in both SQL backends: a purge deletes runs with their
 * log lines in one transaction, so a batch is bounded by its log lines as well as by its runs.
 * A thousand runs of ten thousand lines each would otherwise be one transaction of ten million
 * rows, holding the write lock (SQLite) or the rows' locks for seconds while workers wait.
 */

/** Log lines one batch deletes with its runs, at most, per run it may take (`limit`). */
export const PURGE_LOG_LINES_PER_RUN = 10

/** A candidate run of a purge, with its count of log lines. */
export interface PurgeCandidate {
  readonly id: string
  readonly log_count: number
}

/**
 * The ids of `candidates` (oldest first) a batch of at most `limit` runs takes: the longest prefix
 * whose log lines stay within `limit` × {@link PURGE_LOG_LINES_PER_RUN}, and always the first run
 * (a run with more lines than that goes alone, or retention would never get past it).
 */
export function purgeBatch(candidates: readonly PurgeCandidate[], limit: number): string[] {
  const budget = limit * PURGE_LOG_LINES_PER_RUN
  const ids: string[] = []
  let lines = 0
  for (const candidate of candidates) {
    lines += Number(candidate.log_count)
    if (ids.length > 0 && lines > budget) break
    ids.push(candidate.id)
  }
  return ids
}
