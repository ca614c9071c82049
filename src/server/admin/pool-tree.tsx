/**
 * The pool tree of a run (or of a pool): every level, nested, each pool with its own counts, read
 * within bounds so a pool of 10,000 runs costs a page of rows, not 10,000. The shape of each tree
 * is one store read (`poolsBelow`); each pool shown is two more (its first runs, its counts).
 * The Gantt timeline (`pool-gantt.tsx`) draws the same data.
 */
import { poolStatus } from '../../engine/durable/pool.js'
import type { Pool, PoolCounts, Run, Store } from '../../store/types.js'
import type { PoolStatus } from '../../task/context.js'
import { mayRead, type RunScope } from '../caller.js'
import type { PageContext } from './layout.js'
import { argsSummary } from './runs-table.js'
import { formatCount, formatDuration } from './shared/format.js'
import { ProgressBar, StatusPill } from './ui.js'

/** How much of a tree a page shows. */
export interface PoolTreeLimits {
  /** Runs shown per pool (the rest: "and M more", linking to the runs list of the pool). */
  readonly perPool: number
  /** Pools expanded in all (level by level, so every level shows before a deep branch eats the budget). */
  readonly maxPools: number
  /** Runs shown in all, spent the same way. */
  readonly maxRuns: number
}

/** What the run page, its fragment and the embed show. */
export const POOL_TREE_LIMITS: PoolTreeLimits = { perPool: 50, maxPools: 30, maxRuns: 300 }
/** Pools of one tree read for its shape, at most. */
const MAX_TREE_POOLS = 5_000

/** A pool as the tree shows it. */
export interface PoolNode {
  readonly pool: Pool
  /** Nesting level: 0 for the pools the viewed run opened. */
  readonly depth: number
  /** Counts of the pool's own runs (not those of pools below it). */
  readonly counts: PoolCounts
  /** The aggregate over the pool and every pool below it (top-level pools only). */
  readonly status: PoolStatus | undefined
  /** Its first runs (oldest first) that the caller may read. */
  readonly runs: RunNode[]
  /** Its runs not shown: beyond the limit, or not the caller's to read. */
  readonly more: number
}

/** A run in the tree with the pools it opened. */
export interface RunNode {
  readonly run: Run
  readonly pools: PoolNode[]
  /** Pools it opened that were left out (the tree's pool budget ran out). */
  readonly poolsNotShown: number
}

/** The pools a run opened (or one pool), every level below them, within bounds. */
export interface PoolForest {
  readonly pools: readonly PoolNode[]
  /** Pools of the trees not expanded (over {@link PoolTreeLimits.maxPools}). */
  readonly poolsNotShown: number
  /** When the view was read (epoch ms): where bars of unfinished runs end. */
  readonly now: number
}

/**
 * Reads the trees below `tops` level by level: each level's pools in parallel, then the pools
 * their shown runs opened, until the pool budget is spent.
 */
export async function loadPoolForest(store: Store, tops: readonly Pool[], scope: RunScope, now: number, limits: PoolTreeLimits = POOL_TREE_LIMITS): Promise<PoolForest> {
  const opened = new Map<string, Pool[]>()
  for (const pool of (await Promise.all(tops.map((top) => store.poolsBelow(top.id, MAX_TREE_POOLS)))).flat()) {
    if (pool.parentRunId === null) continue
    const list = opened.get(pool.parentRunId) ?? []
    if (!list.some((p) => p.id === pool.id)) list.push(pool)
    opened.set(pool.parentRunId, list)
  }
  let budget = limits.maxPools
  let runBudget = limits.maxRuns
  let notShown = 0
  /**
   * Reads one level: the pools' counts first, then each pool's first runs, the run budget going
   * to the pools in order, each taking no more than it has (a budget reserved by page size ran out
   * on pools of a few runs each).
   */
  const loadLevel = async (pools: readonly Pool[], depth: number): Promise<PoolNode[]> => {
    const counted = await Promise.all(pools.map((pool) => Promise.all([store.poolCounts(pool.id), depth === 0 ? store.poolCounts(pool.id, { tree: true }) : Promise.resolve(undefined)])))
    const sizes = counted.map(([counts]) => {
      const size = Math.max(0, Math.min(limits.perPool, counts.total, runBudget))
      runBudget -= size
      return size
    })
    const pages = await Promise.all(pools.map((pool, i) => (sizes[i] === 0 ? Promise.resolve({ data: [] as Run[] }) : store.listRuns({ poolId: pool.id, sort: 'created', pageSize: sizes[i]!, count: false }))))
    return pools.map((pool, i): PoolNode => {
      const [counts, tree] = counted[i]!
      const runs = pages[i]!.data.filter((run) => mayRead(scope, run)).map((run): RunNode => ({ run, pools: [], poolsNotShown: 0 }))
      return { pool, depth, counts, status: tree === undefined ? undefined : poolStatus(pool, tree, now), runs, more: Math.max(0, counts.total - runs.length) }
    })
  }
  /** Takes pools off the budget; the rest are counted as not shown. */
  const take = (pools: readonly Pool[]): Pool[] => {
    const taken = pools.slice(0, Math.max(0, budget))
    budget -= taken.length
    notShown += pools.length - taken.length
    return taken
  }
  const roots = await loadLevel(take(tops), 0)
  let level: PoolNode[] = roots
  for (let depth = 1; level.length > 0; depth++) {
    const next: Pool[] = []
    const attach: { parent: RunNode; index: number }[] = []
    for (const node of level) {
      for (const runNode of node.runs) {
        const below = opened.get(runNode.run.id) ?? []
        const taken = take(below)
        ;(runNode as { poolsNotShown: number }).poolsNotShown = below.length - taken.length
        for (const pool of taken) {
          attach.push({ parent: runNode, index: next.length })
          next.push(pool)
        }
      }
    }
    const loaded = await loadLevel(next, depth)
    for (const { parent, index } of attach) parent.pools.push(loaded[index]!)
    level = loaded
  }
  return { pools: roots, poolsNotShown: notShown, now }
}

/** Every pool of a forest, parents before children. */
export function forestPools(forest: Pick<PoolForest, 'pools'>): PoolNode[] {
  const out: PoolNode[] = []
  const walk = (node: PoolNode): void => {
    out.push(node)
    for (const run of node.runs) for (const child of run.pools) walk(child)
  }
  for (const node of forest.pools) walk(node)
  return out
}

/** `2 of 3 done · 1 failed · 0 running`: a pool's own runs in words. */
export function countsText(counts: PoolCounts): string {
  const done = counts.succeeded + counts.failed + counts.cancelled
  const parts = [`${formatCount(done)} of ${formatCount(counts.total)} done`, `${formatCount(counts.failed)} failed`, `${formatCount(counts.running + counts.waiting)} running`]
  if (counts.pending > 0) parts.push(`${formatCount(counts.pending)} pending`)
  if (counts.cancelled > 0) parts.push(`${formatCount(counts.cancelled)} cancelled`)
  return parts.join(' · ')
}

/** A pool's name: its label, else the end of its id. */
export function poolName(pool: Pool): string {
  return pool.label ?? pool.id.slice(-8)
}

/** The nested tree: each pool with its counts and runs, the pools a run opened under it. */
export function PoolTree({ forest, page }: { forest: PoolForest; page: PageContext }) {
  if (forest.pools.length === 0) return null
  return (
    <div class="pool-tree" id="pool-tree">
      {forest.pools.map((node) => (
        <PoolBranch node={node} page={page} />
      ))}
      {forest.poolsNotShown === 0 ? null : <p class="faint small">{`${formatCount(forest.poolsNotShown)} more nested pools not shown`}</p>}
    </div>
  )
}

function PoolBranch({ node, page }: { node: PoolNode; page: PageContext }) {
  const { pool, counts, status } = node
  return (
    <div class="pool-branch" data-pool={pool.id} data-depth={String(node.depth)} data-total={String(counts.total)}>
      <h3 class="pool-head">
        {node.depth === 0 ? 'Opened pool' : 'Pool'} {pool.label ?? ''} <span class="faint mono">{pool.id.slice(-8)}</span>
      </h3>
      {status === undefined ? null : (
        <ProgressBar
          progress={{ percent: status.progress, message: `${status.complete} of ${status.total} done · ${status.failed} failed · ${status.running + status.waiting} running${status.done ? ' · done' : ''}` }}
        />
      )}
      <p class="pool-counts faint small" data-part="counts">
        {status === undefined || status.total === counts.total ? `this level: ${countsText(counts)}` : `this level: ${countsText(counts)} · ${formatCount(status.total - counts.total)} more in pools below`}
      </p>
      {node.runs.length === 0 && node.more === 0 ? <p class="empty">No runs yet.</p> : null}
      <ul class="pool-runs">
        {node.runs.map(({ run, pools, poolsNotShown }) => (
          <li data-run-id={run.id} data-status={run.status}>
            <div class="pool-run">
              <StatusPill status={run.status} /> <a href={`${page.admin}/runs/${run.id}`}>{run.task}</a> <span class="mono muted small">{argsSummary(run.args)}</span>
              {run.label === 'ad-hoc' ? null : <span class="tag">{run.label}</span>} <span class="faint mono small">{run.id.slice(-8)}</span>
              {run.startedAt === null ? null : <span class="faint small nowrap"> · {formatDuration((run.finishedAt?.getTime() ?? page.now) - run.startedAt.getTime())}</span>}
            </div>
            {pools.map((child) => (
              <PoolBranch node={child} page={page} />
            ))}
            {poolsNotShown === 0 ? null : <p class="faint small">{`${formatCount(poolsNotShown)} more pools opened by this run not shown`}</p>}
          </li>
        ))}
      </ul>
      {node.more === 0 ? null : (
        <a class="pool-more small" href={`${page.admin}/runs?pool=${encodeURIComponent(pool.id)}`} data-more={String(node.more)}>
          {`and ${formatCount(node.more)} more →`}
        </a>
      )}
    </div>
  )
}
