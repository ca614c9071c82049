/** The pools role: groups of runs with aggregate status, in trees. */

/** A pool of runs. */
export interface Pool {
  /** The pool's id. */
  readonly id: string
  /** The run that opened it, if any. */
  readonly parentRunId: string | null
  /** The pool it sits below (the pool of the run that opened it), if any. */
  readonly parentPoolId: string | null
  /** The pool at the top of the tree this pool belongs to (itself for a root). */
  readonly rootId: string
  /** A human label. */
  readonly label: string | null
  /** When it was created. */
  readonly createdAt: Date
  /** Set when all runs have been added (`close()`). */
  readonly closedAt: Date | null
}

/** A pool to create; see {@link PoolStore.createPool}. */
export interface NewPool {
  /** Its id. */
  readonly id: string
  /** The run opening it, if any. */
  readonly parentRunId: string | null
  /** The pool it sits below (its tree's root is that pool's root). */
  readonly parentPoolId: string | null
  /** A human label. */
  readonly label: string | null
  /** Creation time, epoch ms. */
  readonly now: number
}

/** Counts of runs in a pool (or a whole pool tree). */
export interface PoolCounts {
  /** Runs in it. */
  readonly total: number
  /** Pending runs. */
  readonly pending: number
  /** Running runs. */
  readonly running: number
  /** Runs waiting on pools of their own. */
  readonly waiting: number
  /** Runs that succeeded. */
  readonly succeeded: number
  /** Runs that failed. */
  readonly failed: number
  /** Runs cancelled. */
  readonly cancelled: number
  /** Sum of the progress percent of unfinished runs (for aggregate progress). */
  readonly progressSum: number
  /** When its first run was created. */
  readonly firstCreatedAt: Date | null
  /** When its last run finished. */
  readonly lastFinishedAt: Date | null
}

/** The pools role. Deleted runs are not counted. */
export interface PoolStore {
  /** Creates a pool (below `parentPoolId`, in that pool's tree). */
  createPool(pool: NewPool): Promise<Pool>
  /** Marks a pool complete (all its runs added); a second call keeps the first time. */
  closePool(id: string, now: number): Promise<void>
  /** A pool by id. */
  getPool(id: string): Promise<Pool | undefined>
  /** Pools opened by a run (its children's pools), oldest first. */
  poolsOfRun(runId: string): Promise<Pool[]>
  /** Counts of the pool's own runs, or with `tree` of every run in pools below it too. */
  poolCounts(id: string, options?: { readonly tree?: boolean }): Promise<PoolCounts>
  /** Ids of the pool and every pool below it. */
  poolTree(id: string): Promise<string[]>
  /**
   * The pool and every pool below it, oldest first, at most `limit` (the admin UI's pool tree and
   * timeline read a tree's shape in one query).
   */
  poolsBelow(id: string, limit: number): Promise<Pool[]>
}
