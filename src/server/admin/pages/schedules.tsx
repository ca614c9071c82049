/**
 * Schedules (cron definitions with their state: on/off switch, next and last run, trigger now,
 * history) and settings (a form built from the settings' own descriptions).
 */
import type { ScheduleInfo } from '../../../engine/schedules/scheduler.js'
import type { SettingInfo } from '../../../engine/settings/settings.js'
import type { LogBackendInfo } from '../../../engine/settings/log-backends.js'
import type { RunPage } from '../../../store/types.js'
import type { FieldIssue } from '../../../errors.js'
import { Layout, type PageContext } from '../layout.js'
import { Csrf, Icon, Pagination, StatusPill, Time } from '../ui.js'
import { RunsTable } from './tasks.js'

/** Whether a cron expression has a seconds field (six or seven fields, not a nickname like `@daily`). */
function hasSeconds(cron: string): boolean {
  return cron.trim().split(/\s+/).length >= 6
}

/** `2026-03-01 02:30` (or with `:15` seconds) and the zone's short name, as the schedule's zone tells time. */
export function inZone(date: Date, timezone: string, seconds: boolean): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: seconds ? '2-digit' : undefined,
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(date)
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? ''
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}${seconds ? `:${part('second')}` : ''} ${part('timeZoneName')}`
}

/**
 * A schedule's time both ways: relative (ticking, in the script), then absolute in the
 * schedule's own zone, to the second when its cron has seconds. The tooltip gives UTC, and the
 * script adds the viewer's own time and offset.
 */
function When({ date, now, schedule }: { date: Date | null; now: number; schedule: ScheduleInfo }) {
  if (date === null) return <span class="faint">—</span>
  const seconds = hasSeconds(schedule.cron)
  return (
    <span class="when-both">
      <Time date={date} now={now} />
      <span class="faint mono small abs" data-local-title={date.toISOString()} data-seconds={seconds ? 'true' : undefined} title={`${date.toISOString().slice(0, seconds ? 19 : 16).replace('T', ' ')} UTC`}>
        {inZone(date, schedule.timezone, seconds)}
      </span>
    </span>
  )
}

/** The on/off switch: a form posting the opposite state (works without the script). */
function Switch({ page, schedule, back }: { page: PageContext; schedule: ScheduleInfo; back: string }) {
  return (
    <form method="post" action={`${page.admin}/schedules/${encodeURIComponent(schedule.id)}/toggle`} class="inline">
      <Csrf token={page.csrf} />
      <input type="hidden" name="back" value={back} />
      <input type="hidden" name="enabled" value={schedule.enabled ? 'false' : 'true'} />
      <button
        type="submit"
        class={`switch${schedule.enabled ? ' on' : ''}`}
        role="switch"
        aria-checked={schedule.enabled ? 'true' : 'false'}
        aria-label={`${schedule.name}: ${schedule.enabled ? 'enabled, click to disable' : 'disabled, click to enable'}`}
        data-schedule-toggle={schedule.id}
      >
        <span class="knob" />
        <span class="switch-text">{schedule.enabled ? 'On' : 'Off'}</span>
      </button>
    </form>
  )
}

function TriggerButton({ page, schedule, back }: { page: PageContext; schedule: ScheduleInfo; back: string }) {
  return (
    <form method="post" action={`${page.admin}/schedules/${encodeURIComponent(schedule.id)}/trigger`} class="inline">
      <Csrf token={page.csrf} />
      <input type="hidden" name="back" value={back} />
      <button type="submit" class="small" disabled={!schedule.enabled} title={schedule.enabled ? 'Enqueue a run now' : 'Enable the schedule to trigger it'}>
        <Icon name="play" /> Run now
      </button>
    </form>
  )
}

function LastRun({ page, schedule }: { page: PageContext; schedule: ScheduleInfo }) {
  const run = schedule.lastRun
  if (run === null) return <span class="faint">never</span>
  return (
    <span class="nowrap">
      <StatusPill status={run.status} />{' '}
      <a href={`${page.admin}/runs/${run.id}`}>
        <Time date={run.finishedAt ?? run.startedAt ?? run.runAt} now={page.now} />
      </a>
    </span>
  )
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
        <RunsTable runs={runs.data} page={page} showTask={false} />
        <Pagination page={runs.page} pageSize={runs.pageSize} total={runs.total} href={(n) => `${base}?page=${n}`} />
      </section>
    </Layout>
  )
}

export function SettingsPage({
  page,
  settings,
  backends,
  errors,
  issues = new Map(),
}: {
  page: PageContext
  settings: readonly SettingInfo[]
  backends: readonly LogBackendInfo[]
  errors?: string
  /** What is wrong with each bad setting, by key, shown at its field. */
  issues?: ReadonlyMap<string, FieldIssue>
}) {
  return (
    <Layout page={page} title="Settings" nav="settings">
      <div class="page-head">
        <div>
          <h1>Settings</h1>
          <p class="sub">Shared by every process on this store. Worker concurrency applies to running workers at once.</p>
        </div>
      </div>
      {errors === undefined ? null : (
        <div class="notice notice-bad" role="alert">
          {errors}
        </div>
      )}
      <form method="post" action={`${page.admin}/settings`} class="panel settings-form">
        <Csrf token={page.csrf} />
        {settings.map((s) => (
          <div class={`field${issues.has(s.key) ? ' invalid' : ''}`} data-field={s.key}>
            <label for={`setting-${s.key}`}>{s.title}</label>
            {s.type === 'choice' ? (
              <select id={`setting-${s.key}`} name={s.key}>
                {(s.choices ?? []).map((choice) => (
                  <option value={choice.value} selected={choice.value === s.value}>
                    {choice.title}
                  </option>
                ))}
              </select>
            ) : (
              <input
                id={`setting-${s.key}`}
                name={s.key}
                type="number"
                inputmode="numeric"
                min={String(s.min)}
                max={String(s.max)}
                step="1"
                value={s.value === null ? '' : String(s.value)}
                placeholder={s.nullable === true ? 'each worker\'s own' : String(s.default)}
                required={s.nullable !== true}
                aria-invalid={issues.has(s.key) ? 'true' : undefined}
              />
            )}
            <p class="help">
              {s.description} <span class="faint">Default: {s.default === null ? 'none' : String(s.default)}.</span>
            </p>
            {issues.has(s.key) ? (
              <div class="error" role="alert">
                Expected {issues.get(s.key)!.expected}, got {issues.get(s.key)!.received}.
              </div>
            ) : null}
          </div>
        ))}
        <div class="form-actions">
          <button type="submit" class="primary">
            Save settings
          </button>
        </div>
      </form>
      <section class="panel">
        <h2>Log storage backends</h2>
        <ul class="plain">
          {backends.map((b) => (
            <li>
              <strong>{b.title}</strong> <code class="faint">{b.name}</code> — {b.description}
            </li>
          ))}
        </ul>
      </section>
    </Layout>
  )
}
