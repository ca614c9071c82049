/** How a bulk job's state looks, the same on the server's page and in the client's updates. */

/** A job's state as a status pill: running like a run running, finished like one succeeded, failed and cancelled as runs are. */
export function bulkStateClass(state: 'running' | 'cancelled' | 'finished' | 'failed'): string {
  const look = state === 'finished' ? 'succeeded' : state
  return `status status-${look} bulk-${state}`
}
