/**
 * Workers (`/admin/workers`): every live process sharing the store, workers and servers, with
 * host, pid, state (active, quiet, stopping) and the last command given, busy / slots, queues,
 * heartbeat and the runs it holds, and buttons to quiet, resume or stop a worker on any machine;
 * then the workers that died in the last day with the runs they held and what became of each.
 */
import type { DeadWorker } from '../../../engine/durable/dead-workers.js'
import type { WorkerInfo } from '../../../store/types.js'
import { can } from '../../auth.js'
import { identity, requirePermission } from '../../caller.js'
import { Layout, type PageContext } from '../layout.js'
import type { AdminPage } from '../page.js'
import { Time } from '../ui.js'
import { HeldRuns, WorkerActions, WorkerState } from '../worker-parts.js'

/** What the page shows: the live processes, the recently dead workers, and whether the caller may steer them. */
export interface WorkersData {
  readonly live: readonly WorkerInfo[]
  readonly dead: readonly DeadWorker[]
  readonly canSteer: boolean
}

export const workersPage: AdminPage<WorkersData> = {
  async load(c, { engine }) {
    requirePermission(c, 'workers:read')
    const [live, dead] = await Promise.all([engine.workers(), engine.deadWorkers()])
    return { live, dead, canSteer: can(identity(c), 'workers:write') }
  },
  data: ({ live, dead }) => ({ value: { live, dead }, name: 'workers' }),
  view: ({ page, data }) => <WorkersPage page={page} data={data} />,
}

export function WorkersPage({ page, data }: { page: PageContext; data: WorkersData }) {
  const { live, dead, canSteer } = data
  return (
    <Layout page={page} title="Workers" nav="workers">
      <div class="page-head">
        <div>
          <h1>Workers</h1>
          <p class="sub">
            Processes that heartbeat into the store, on any machine: workers that execute runs, and servers that serve live views. Quiet a worker to stop it claiming
            (the runs it holds finish); stop it to end it gracefully. It applies either within a heartbeat.
          </p>
        </div>
      </div>
      <section class="panel" data-live-region="workers" data-live-every="10000">
        {live.length === 0 ? (
          <p class="empty">No live processes.</p>
        ) : (
          <div class="table-wrap">
            <table class="wide" id="live-workers">
              <thead>
                <tr>
                  <th>Process</th>
                  <th>Role</th>
                  <th>State</th>
                  {canSteer ? <th>Steer</th> : null}
                  <th>Host</th>
                  <th class="num">PID</th>
                  <th class="num">Busy / slots</th>
                  <th>Queues</th>
                  <th>Heartbeat</th>
                  <th>Started</th>
                  <th>Running now</th>
                </tr>
              </thead>
              <tbody>
                {live.map((w) => (
                  <tr data-worker={w.id}>
                    <td class="mono">{w.id}</td>
                    <td>{w.concurrency === 0 ? 'server' : w.observer ? 'worker + server' : 'worker'}</td>
                    <td>
                      <WorkerState worker={w} now={page.now} />
                    </td>
                    {canSteer ? (
                      <td>
                        <WorkerActions page={page} worker={w} />
                      </td>
                    ) : null}
                    <td>{w.host}</td>
                    <td class="num">{w.pid}</td>
                    <td class="num">{w.concurrency === 0 ? <span class="faint">—</span> : `${w.busy} / ${w.concurrency}`}</td>
                    <td>{w.queues === null ? <span class="faint">all</span> : w.queues.join(', ')}</td>
                    <td>
                      <Time date={w.heartbeatAt} now={page.now} />
                    </td>
                    <td>
                      <Time date={w.startedAt} now={page.now} />
                    </td>
                    <td>
                      {w.running.length === 0 ? (
                        <span class="faint">idle</span>
                      ) : (
                        w.running.slice(0, 10).map((id) => (
                          <a class="mono tag" href={`${page.admin}/runs/${id}`}>
                            {id.slice(-8)}
                          </a>
                        ))
                      )}
                      {w.running.length > 10 ? <span class="faint">+{w.running.length - 10}</span> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section class="panel" data-live-region="dead-workers" data-live-every="10000" aria-labelledby="dead-h">
        <h2 id="dead-h">Recently dead</h2>
        <p class="sub small">Workers whose heartbeat stopped in the last day (killed, crashed, cut off from the store), with the runs they held then and what became of each.</p>
        {dead.length === 0 ? (
          <p class="empty">No worker died in the last day.</p>
        ) : (
          <div class="table-wrap">
            <table class="wide" id="dead-workers">
              <thead>
                <tr>
                  <th>Process</th>
                  <th>Host</th>
                  <th class="num">PID</th>
                  <th>Last heartbeat</th>
                  <th>Started</th>
                  <th>Runs it held</th>
                </tr>
              </thead>
              <tbody>
                {dead.map((w) => (
                  <tr data-dead-worker={w.id}>
                    <td class="mono">{w.id}</td>
                    <td>{w.host}</td>
                    <td class="num">{w.pid}</td>
                    <td>
                      <Time date={w.heartbeatAt} now={page.now} />
                    </td>
                    <td>
                      <Time date={w.startedAt} now={page.now} />
                    </td>
                    <td>
                      <HeldRuns page={page} worker={w} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Layout>
  )
}
