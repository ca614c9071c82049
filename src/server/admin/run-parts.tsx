/**
 * Parts of the run page (`pages/run.tsx`): how a deliberate cancel reads (neutral, who and why,
 * no stack), the run's clock (elapsed, and an estimate to completion from its progress rate),
 * the progress of the pool a parent waits on, where an in-process run was started, the log with
 * its level filter, search and split by attempt (the script filters; without it every line
 * shows), and the form that compares two of its attempts.
 */
import type { PoolReport } from '../../engine/engine.js'
import type { PageContext } from './layout.js'
import type { Run } from '../../store/types.js'
import type { LogEntry } from '../../task/context.js'
import { attemptsOfLines } from '../log-attempts.js'
import { progressFraction, runClock } from './shared/estimate.js'
import { formatDuration } from './shared/format.js'
import { LogLine, ProgressBar } from './ui.js'

/** Where in-process runs were started, in words, by their stored `startedFrom`. */
const STARTED_FROM: Readonly<Record<string, string>> = {
  admin: "the admin UI's Run",
  'admin-live': "the admin UI's live view",
  cli: 'taskengine run',
  engine: 'code (engine.run)',
}

/**
 * How an in-process run came to be, for the run page: "started from the admin UI's Run by ann"
 * (`null` for durable runs).
 */
export function inProcessOrigin(run: Run): string | null {
  if (!run.inProcess) return null
  const from = run.startedFrom === null ? 'code' : (STARTED_FROM[run.startedFrom] ?? run.startedFrom)
  return `started from ${from}${run.createdBy === null ? '' : ` by ${run.createdBy}`}`
}

/** A run cancelled on purpose (or expired), as opposed to one that failed: it is told neutrally. */
export function deliberateEnd(run: Run): boolean {
  return run.status === 'cancelled' && (run.error === null || run.error.code === 'ERR_CANCELLED' || run.error.code === 'ERR_EXPIRED')
}

/**
 * Who cancelled a run: the actor stored with the cancel (`cancelledBy`), else the one its
 * reason names as this server's routes write it (`cancelled by <id>`), else `null`.
 */
export function cancelActor(run: Run): string | null {
  if (run.cancelledBy !== null) return run.cancelledBy
  return /^cancelled by (.+)$/.exec(run.cancelReason ?? '')?.[1] ?? null
}

/** What a cancel's reason adds beyond the actor (`null` when it only names the actor). */
function cancelNote(run: Run, by: string | null): string | null {
  const reason = run.cancelReason
  if (reason === null || reason === '' || reason === 'cancelled by request' || (by !== null && reason === `cancelled by ${by}`)) return null
  return reason
}

/** "Cancelled by alice: wrong tenant", neutral, without a stack; an expiry says so. */
export function CancelCard({ run }: { run: Run }) {
  if (run.error?.code === 'ERR_EXPIRED') {
    return (
      <div class="notice notice-neutral cancel-card" id="cancel-card" role="status">
        <strong>Expired:</strong> {run.error.message}
      </div>
    )
  }
  const by = cancelActor(run)
  const note = cancelNote(run, by)
  return (
    <div class="notice notice-neutral cancel-card" id="cancel-card" role="status">
      <strong>{by === null ? 'Cancelled' : `Cancelled by ${by}`}</strong>
      {note === null ? '' : `: ${note}`}
      {run.cancelRequestedAt === null ? null : <span class="faint"> · asked at {run.cancelRequestedAt.toISOString().replace('T', ' ').slice(0, 19)} UTC</span>}
    </div>
  )
}

/**
 * How long the run has been going (its current attempt) and, while it runs with a progress
 * total that moved, about how long it has left; a finished run says how long it ran. The script
 * ticks it (`data-started-at`).
 */
export function RunClockLine({ run, now }: { run: Run; now: number }) {
  if (run.startedAt === null) return null
  const active = run.status === 'running' || run.status === 'waiting'
  if (!active) {
    if (run.finishedAt === null) return null
    return (
      <p class="run-clock faint" id="run-clock">
        Ran for {formatDuration(run.finishedAt.getTime() - run.startedAt.getTime())}
      </p>
    )
  }
  const clock = runClock(run.startedAt.getTime(), now, run.progress)
  return (
    <p class="run-clock" id="run-clock" data-started-at={String(run.startedAt.getTime())} data-fraction={String(progressFraction(run.progress) ?? '')} aria-live="off">
      <span data-part="elapsed">Running for {formatDuration(clock.elapsedMs)}</span>
      <span data-part="remaining">{clock.remainingMs === undefined ? '' : ` · about ${formatDuration(clock.remainingMs)} left`}</span>
    </p>
  )
}

/** The progress of the pools a run opened and waits on (a parent reports none of its own). */
export function PoolProgress({ pools }: { pools: readonly PoolReport[] }) {
  return (
    <div id="pool-progress">
      {pools.map(({ pool, status }) => (
        <div class="pool-progress" data-pool={pool.id}>
          <div class="faint small">
            {status.done ? 'Pool' : 'Waiting on pool'} {pool.label === null ? pool.id.slice(-8) : `"${pool.label}"`}
          </div>
          <ProgressBar
            progress={{
              percent: status.progress,
              step: status.complete,
              steps: status.total,
              message: `done · ${status.failed} failed · ${status.running + status.waiting} running${status.done ? '' : ` · ${status.pending} pending`}`,
            }}
          />
        </div>
      ))}
    </div>
  )
}

/**
 * The run's log: a terminal like `LogTerminal`, each line with its level and attempt, the first
 * line of each attempt marked when there were several; above it the filter (level, search,
 * attempt), hidden until the script runs it.
 */
export function RunLog({ run, logs, follow }: { run: Run; logs: readonly LogEntry[]; follow: boolean }) {
  const attempts = attemptsOfLines(run, logs)
  const numbers = [...new Set([...attempts, ...(run.attempt > 0 ? [run.attempt] : [])])].sort((a, b) => a - b)
  const split = numbers.length > 1
  return (
    <div>
      <form class="log-filter" id="log-filter" data-for="run-log" hidden role="search" aria-label="filter the log">
        <label>
          Level{' '}
          <select name="level" data-filter="level">
            <option value="debug">all</option>
            <option value="info">info and above</option>
            <option value="warn">warn and above</option>
            <option value="error">error only</option>
          </select>
        </label>
        <label>
          Attempt{' '}
          <select name="attempt" data-filter="attempt">
            <option value="">all</option>
            {numbers.map((n) => (
              <option value={String(n)}>{`attempt ${n}`}</option>
            ))}
          </select>
        </label>
        <input type="search" name="q" data-filter="q" placeholder="Search the log" aria-label="search the log" />
        <span class="faint" data-part="shown" aria-live="polite" />
      </form>
      <div class="terminal-bar">
        <span>
          <span data-log-count="">{logs.length}</span> {logs.length === 1 ? 'line' : 'lines'}
        </span>
        {follow ? (
          <label class="checkbox-label">
            <input type="checkbox" data-follow="run-log" checked /> follow
          </label>
        ) : null}
      </div>
      <div class={follow ? 'terminal' : 'terminal terminal-done'} id="run-log" data-last-seq={String(logs.at(-1)?.seq ?? 0)} data-attempt={String(Math.max(1, run.attempt))} tabindex={0} aria-label="log lines">
        {logs.map((entry, i) => {
          const attempt = attempts[i] ?? 1
          const first = split && (i === 0 || attempts[i - 1] !== attempt)
          return <LogLine entry={entry} attempt={attempt} first={first} />
        })}
      </div>
    </div>
  )
}

/**
 * Compare any two attempts of a run (a plain GET form to the diff page, so it works without the
 * script): the one before the last and the last are chosen at first. Shown from two attempts on.
 */
export function AttemptsCompare({ run, page }: { run: Run; page: PageContext }) {
  const numbers = run.attempts.map((a) => a.number)
  if (numbers.length < 2) return null
  const options = (chosen: number) =>
    numbers.map((n) => (
      <option value={`${run.id}:${n}`} selected={n === chosen}>
        {`attempt ${n}`}
      </option>
    ))
  return (
    <form method="get" action={`${page.admin}/runs/diff`} class="attempts-compare" id="attempts-compare">
      <label>
        Compare <select name="a">{options(numbers.at(-2)!)}</select>
      </label>{' '}
      <label>
        with <select name="b">{options(numbers.at(-1)!)}</select>
      </label>{' '}
      <button type="submit" class="small">
        Compare
      </button>
    </form>
  )
}
