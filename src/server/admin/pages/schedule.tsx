/**
 * One schedule (`/admin/schedules/:id`): its definition and rules, switch and trigger, and its
 * history of runs (those the caller may read), each with the tick it fired for or who pressed
 * "Run now".
 */
import type { ScheduleInfo } from '../../../engine/schedules/scheduler.js'
import type { RunPage } from '../../../store/types.js'
import { runRow } from '../../api/run-rows.js'
import { requirePermission, runScope, scheduleForCaller } from '../../caller.js'
import { Layout, type PageContext } from '../layout.js'
import { positive, type AdminPage } from '../page.js'
import { LastRun, ScheduleHistory, Switch, TriggerButton, When } from '../schedule-parts.js'
import { Pagination } from '../ui.js'

export interface ScheduleData {
  readonly schedule: ScheduleInfo
  readonly runs: RunPage
}

export const schedulePage: AdminPage<ScheduleData> = {
  async load(c, { engine }) {
    requirePermission(c, 'schedules:read')
    const schedule = scheduleForCaller(c, await engine.getSchedule(c.req.param('id') ?? ''))
    // The history shows the runs the caller may read: all, its own, or none.
    const scope = runScope(c)
    const filter = { page: positive(c.req.query('page'), 1), pageSize: 20, ...(scope === null || scope.all ? {} : { createdBy: scope.id }) }
    const runs = scope === null ? { data: [], total: 0, page: 1, pageSize: 20 } : await engine.scheduleRuns(schedule.id, filter)
    return { schedule, runs }
  },
  data: ({ schedule, runs }) => ({ value: { schedule, runs }, name: `schedule-${schedule.id}`, rows: () => runs.data.map(runRow) }),
  view: ({ page, data }) => <SchedulePage page={page} schedule={data.schedule} runs={data.runs} />,
}

export function SchedulePage({ page, schedule, runs }: { page: PageContext; schedule: ScheduleInfo; runs: RunPage }) {
  const base = `${page.admin}/schedules/${encodeURIComponent(schedule.id)}`
  return (
    <Layout page={page} title={schedule.name} nav="schedules">
      <div class="page-head">
        <div>
          <p class="crumbs">
            <a href={`${page.admin}/schedules`}>Schedules</a> /
          </p>
          <h1>{schedule.name}</h1>
          {schedule.description === '' ? null : <p class="sub">{schedule.description}</p>}
        </div>
        <div class="actions">
          <Switch page={page} schedule={schedule} back={base} />
          <TriggerButton page={page} schedule={schedule} back={base} />
        </div>
      </div>
      <section class="panel">
        <dl class="kv">
          <dt>Id</dt>
          <dd class="mono">{schedule.id}</dd>
          <dt>When</dt>
          <dd>
            {schedule.cronText} <code class="faint">{schedule.cron}</code>
          </dd>
          <dt>Time zone</dt>
          <dd>{schedule.timezone}</dd>
          <dt>Task</dt>
          <dd>
            <a href={`${page.admin}/task/${encodeURIComponent(schedule.task)}`}>{schedule.task}</a>
          </dd>
          <dt>Next run</dt>
          <dd>{schedule.enabled ? <When date={schedule.nextRunAt} now={page.now} schedule={schedule} /> : <span class="faint">off</span>}</dd>
          <dt>Last run</dt>
          <dd>
            <LastRun page={page} schedule={schedule} />
          </dd>
          <dt>Rules</dt>
          <dd>
            {schedule.overlap ? 'may overlap its previous run' : 'skips a tick while its previous run is active'}; {schedule.expireAtNextTick ? 'a tick\'s run expires at the next tick' : 'runs never expire'};{' '}
            {schedule.catchUp === 0 ? 'missed ticks are skipped' : `catches up the last ${schedule.catchUp} missed ticks`}
          </dd>
        </dl>
      </section>
      <section class="panel">
        <h2>History</h2>
        <ScheduleHistory runs={runs.data} schedule={schedule} page={page} />
        <Pagination page={runs.page} pageSize={runs.pageSize} total={runs.total} href={(n) => `${base}?page=${n}`} />
      </section>
    </Layout>
  )
}
