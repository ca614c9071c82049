/**
 * Schedules (`/admin/schedules`): every cron schedule with its state, an on/off switch for
 * every process, next run (relative, ticking, and absolute in the schedule's zone), last run,
 * and a trigger.
 */
import type { ScheduleInfo } from '../../../engine/schedules/scheduler.js'
import { requirePermission, scheduleForCaller } from '../../caller.js'
import { Layout, type PageContext } from '../layout.js'
import type { AdminPage } from '../page.js'
import { LastRun, Switch, TriggerButton, When } from '../schedule-parts.js'

export const schedulesPage: AdminPage<readonly ScheduleInfo[]> = {
  async load(c, { engine }) {
    requirePermission(c, 'schedules:read')
    return (await engine.schedules()).map((s) => scheduleForCaller(c, s))
  },
  data: (schedules) => ({ value: schedules, name: 'schedules' }),
  view: ({ page, data }) => <SchedulesPage page={page} schedules={data} />,
}

export function SchedulesPage({ page, schedules }: { page: PageContext; schedules: readonly ScheduleInfo[] }) {
  return (
    <Layout page={page} title="Schedules" nav="schedules">
      <div class="page-head">
        <div>
          <h1>Schedules</h1>
          <p class="sub">Cron schedules defined in code. Turning one off holds for every process; ticks missed while off are not caught up.</p>
        </div>
      </div>
      <section class="panel" data-live-region="schedules" data-live-every="15000">
        {schedules.length === 0 ? (
          <p class="empty">
            No schedules. Define them with <code>defineSchedule()</code> and export them beside your tasks.
          </p>
        ) : (
          <div class="table-wrap">
            <table class="wide">
              <thead>
                <tr>
                  <th>Schedule</th>
                  <th>When</th>
                  <th>Time zone</th>
                  <th>Enabled</th>
                  <th>Next run</th>
                  <th>Last run</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {schedules.map((s) => (
                  <tr data-schedule={s.id}>
                    <td>
                      <a href={`${page.admin}/schedules/${encodeURIComponent(s.id)}`}>{s.name}</a>
                      <div class="faint small">
                        {s.task}
                        {s.description === '' ? null : <> · {s.description}</>}
                      </div>
                    </td>
                    <td class="cron">
                      <div>{s.cronText}</div>
                      <code class="faint">{s.cron}</code>
                    </td>
                    <td>{s.timezone}</td>
                    <td>
                      <Switch page={page} schedule={s} back={`${page.admin}/schedules`} />
                    </td>
                    <td data-cell="next">{s.enabled ? <When date={s.nextRunAt} now={page.now} schedule={s} /> : <span class="faint">off</span>}</td>
                    <td data-cell="last">
                      <LastRun page={page} schedule={s} />
                    </td>
                    <td class="num">
                      <TriggerButton page={page} schedule={s} back={`${page.admin}/schedules`} />
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
