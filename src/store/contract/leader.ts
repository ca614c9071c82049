/**
 * Leader election, an optional part of a store: one process at a time runs periodic maintenance
 * (rescue, expiry). Without it every worker process maintains, which is safe where maintenance
 * statements are atomic (SQLite).
 */

/** Leader election. */
export interface LeaderElection {
  /**
   * Whether this process leads periodic maintenance now, taking the lead when nobody holds it
   * (PostgreSQL: an advisory lock held on a connection; when that process or connection dies,
   * the next process to ask takes over). Asking again while leading keeps the lead.
   */
  lead(): Promise<boolean>
}
