/**
 * Workers (`/admin/workers`): every live process sharing the store, workers and servers, with
 * host, pid, busy / slots, queues, heartbeat and the runs it holds.
 */
import type { WorkerInfo } from '../../../store/types.js'
import { requirePermission } from '../../caller.js'
import { Layout, type PageContext } from '../layout.js'
import type { AdminPage } from '../page.js'
import { Time } from '../ui.js'

export const workersPage: AdminPage<readonly WorkerInfo[]> = {
  load(c, { engine }) {
    requirePermission(c, 'workers:read')
    return engine.workers()
  },
  data: (workers) => ({ value: workers, name: 'workers' }),
  view: ({ page, data }) => <WorkersPage page={page} workers={data} />,
}

export function WorkersPage({ page, workers }: { page: PageContext; workers: readonly WorkerInfo[] }) {
  return (
    <Layout page={page} title="Workers" nav="workers">
      <div class="page-head">
        <div>
          <h1>Workers</h1>
          <p class="sub">Processes that heartbeat into the store, on any machine: workers that execute runs, and servers that serve live views.</p>
        </div>
      </div>
      <section class="panel" data-live-region="workers" data-live-every="10000">
        {workers.length === 0 ? (
          <p class="empty">No live processes.</p>
        ) : (
          <div class="table-wrap">
            <table class="wide">
              <thead>
                <tr>
                  <th>Process</th>
                  <th>Role</th>
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
                {workers.map((w) => (
                  <tr>
                    <td class="mono">{w.id}</td>
                    <td>{w.concurrency === 0 ? 'server' : w.observer ? 'worker + server' : 'worker'}</td>
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
    </Layout>
  )
}
