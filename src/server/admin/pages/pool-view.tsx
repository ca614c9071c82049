/**
 * The pool view of a run that opened pools: the Gantt timeline over the tree, its legend, and the
 * nested tree with counts per level. The run page and the embed show it; `GET
 * /admin/runs/:id/pools` answers it alone as an HTML fragment, which the page's script fetches
 * again as runs of the tree change (`client/pool-view.ts`).
 */
import type { Handler } from 'hono'
import type { Engine } from '../../../engine/engine.js'
import type { Run } from '../../../store/types.js'
import { mayRead, readScope, type ServerEnv } from '../../caller.js'
import { notFound } from '../../http-errors.js'
import type { AdminContext, AdminDeps } from '../page.js'
import { pageContext, wantsData } from '../page.js'
import type { PageContext } from '../layout.js'
import { respond } from '../../formats.js'
import { GanttLegend, PoolGantt } from '../pool-gantt.js'
import { PoolTree, loadPoolForest, type PoolForest } from '../pool-tree.js'

/** The pools a run opened and every level below them, as the caller may read them. */
export async function runPoolForest(c: AdminContext, engine: Engine, run: Run): Promise<PoolForest> {
  const store = await engine.store()
  return loadPoolForest(store, await store.poolsOfRun(run.id), readScope(c), Date.now())
}

/** The timeline and the tree, in the box the script refreshes (`data-src`). */
export function PoolView({ run, forest, page }: { run: Run; forest: PoolForest; page: PageContext }) {
  if (forest.pools.length === 0) return null
  return (
    <div class="pool-view" id="pool-view" data-src={`${page.admin}/runs/${run.id}/pools`}>
      <h3>Timeline</h3>
      <PoolGantt forest={forest} page={page} />
      <GanttLegend />
      <PoolTree forest={forest} page={page} />
    </div>
  )
}

/** `GET /admin/runs/:id/pools`: the pool view alone (or its data with `?format=`). */
export function poolViewFragment(deps: AdminDeps): Handler<ServerEnv> {
  return async (c) => {
    const scope = readScope(c)
    const run = await deps.engine.getRun(c.req.param('id') ?? '')
    if (run === undefined || !mayRead(scope, run)) throw notFound(`unknown run "${c.req.param('id')}"`)
    const forest = await runPoolForest(c, deps.engine, run)
    if (wantsData(c)) return respond(c, forest, { name: `pools-${run.id}` })
    const page = pageContext(c, deps)
    return c.html(<PoolView run={run} forest={forest} page={page} />)
  }
}
