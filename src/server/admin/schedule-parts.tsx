/**
 * The parts of the schedule pages: a schedule's times both ways (relative and in its own zone),
 * the on/off switch, the trigger button, its last run and its history (which tick, or who
 * pressed "Run now"). Switch and trigger are forms that
 * work without the script.
 */
import type { ScheduleInfo } from '../../engine/schedules/scheduler.js'
import type { Run } from '../../store/types.js'
import type { PageContext } from './layout.js'
import { Csrf, Icon, StatusPill, Time, TookCell } from './ui.js'

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
export function When({ date, now, schedule }: { date: Date | null; now: number; schedule: ScheduleInfo }) {
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
export function Switch({ page, schedule, back }: { page: PageContext; schedule: ScheduleInfo; back: string }) {
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

export function TriggerButton({ page, schedule, back }: { page: PageContext; schedule: ScheduleInfo; back: string }) {
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

export function LastRun({ page, schedule }: { page: PageContext; schedule: ScheduleInfo }) {
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

/**
 * The tick a schedule's run was enqueued for: the time in its fire key (`<schedule id>@<ISO
 * time>`), or `null` for a run enqueued by "Run now" (no fire key) or a key that says none.
 */
export function tickTimeOf(run: Run): Date | null {
  if (run.fireKey === null) return null
  const at = new Date(run.fireKey.slice(run.fireKey.lastIndexOf('@') + 1))
  return Number.isNaN(at.getTime()) ? null : at
}

/** Where a schedule's run came from: its tick (fire time in the schedule's zone) or "Run now" and who pressed it. */
export function RunSource({ run, schedule }: { run: Run; schedule: ScheduleInfo }) {
  const tick = tickTimeOf(run)
  if (run.fireKey !== null) {
    return (
      <span class="run-source" data-source="tick">
        <span class="badge">tick</span>{' '}
        {tick === null ? (
          <span class="mono small">{run.fireKey}</span>
        ) : (
          <span class="mono small" data-local-title={tick.toISOString()} data-seconds={hasSeconds(schedule.cron) ? 'true' : undefined} title={`fired for ${tick.toISOString().replace('T', ' ').replace('.000Z', ' UTC')}`}>
            {inZone(tick, schedule.timezone, hasSeconds(schedule.cron))}
          </span>
        )}
      </span>
    )
  }
  return (
    <span class="run-source" data-source="run-now">
      <span class="badge badge-manual">Run now</span> {run.createdBy === null ? <span class="faint">by the engine's API</span> : <span>by {run.createdBy}</span>}
    </span>
  )
}

/** A schedule's history: each run with its source (tick time, or "Run now" and who), status, when it was created and how long it took. */
export function ScheduleHistory({ runs, schedule, page }: { runs: readonly Run[]; schedule: ScheduleInfo; page: PageContext }) {
  if (runs.length === 0) return <p class="empty">No runs yet.</p>
  return (
    <div class="table-wrap">
      <table class="schedule-history">
        <thead>
          <tr>
            <th>Run</th>
            <th>From</th>
            <th>Status</th>
            <th>Created</th>
            <th class="num">Took</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr data-run-id={run.id}>
              <td class="mono">
                <a href={`${page.admin}/runs/${run.id}`}>{run.label}</a> <span class="faint">{run.id.slice(-8)}</span>
              </td>
              <td>
                <RunSource run={run} schedule={schedule} />
              </td>
              <td data-cell="status">
                <StatusPill status={run.status} />
              </td>
              <td>
                <Time date={run.createdAt} now={page.now} />
              </td>
              <TookCell run={run} />
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
