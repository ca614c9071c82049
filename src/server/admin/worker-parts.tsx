/**
 * The parts of the Workers page: a worker's state with the last command given to it, the
 * quiet / resume / stop buttons (forms that work without the script; stop asks first where the
 * script runs), and the runs a dead worker held with what became of each.
 */
import { describeFate, type DeadWorker, type HeldRun } from '../../engine/durable/dead-workers.js'
import type { WorkerCommandType, WorkerInfo } from '../../store/types.js'
import type { PageContext } from './layout.js'
import { Csrf, StatusPill, Time } from './ui.js'

const STATE_BADGE = { active: 'badge-active', quiet: 'badge-paused', stopping: 'badge-danger' } as const
const COMMAND_DONE: Record<WorkerCommandType, string> = { quiet: 'quieted', resume: 'resumed', stop: 'stop requested' }

/** Active, quiet or stopping, and who asked for it when. */
export function WorkerState({ worker, now }: { worker: WorkerInfo; now: number }) {
  if (worker.concurrency === 0) return <span class="faint">—</span>
  const command = worker.command
  return (
    <span class="worker-state">
      <span class={`badge ${STATE_BADGE[worker.state]}`} data-state={worker.state}>
        {worker.state}
      </span>
      {command === null ? null : (
        <span class="faint small nowrap">
          {' '}
          {COMMAND_DONE[command.type]}
          {command.by === null ? '' : ` by ${command.by}`} <Time date={command.at} now={now} />
        </span>
      )}
    </span>
  )
}

/** A worker's state as a badge where it is not the usual one (quiet, stopping); nothing while active. */
export function WorkerStateBadge({ worker }: { worker: WorkerInfo }) {
  if (worker.state === 'active') return null
  return (
    <span class={`badge ${STATE_BADGE[worker.state]}`} data-state={worker.state} title={worker.command === null || worker.command.by === null ? undefined : `${COMMAND_DONE[worker.command.type]} by ${worker.command.by}`}>
      {worker.state}
    </span>
  )
}

/** One command's button, as a form posting to the admin action. */
function CommandButton({ page, worker, type, label, title, confirm }: { page: PageContext; worker: WorkerInfo; type: WorkerCommandType; label: string; title: string; confirm?: string }) {
  return (
    <form method="post" action={`${page.admin}/workers/${encodeURIComponent(worker.id)}/${type}`} class="inline" data-confirm={confirm}>
      <Csrf token={page.csrf} />
      <button type="submit" class={type === 'stop' ? 'small danger' : 'small'} title={title} data-worker-command={type}>
        {label}
      </button>
    </form>
  )
}

/** Quiet or resume, and stop; nothing for a server without a worker or a worker already stopping. */
export function WorkerActions({ page, worker }: { page: PageContext; worker: WorkerInfo }) {
  if (worker.concurrency === 0 || worker.state === 'stopping' || worker.command?.type === 'stop') return <span class="faint">—</span>
  const quiet = worker.state === 'quiet' || worker.command?.type === 'quiet'
  return (
    <span class="worker-actions nowrap">
      {quiet ? (
        <CommandButton page={page} worker={worker} type="resume" label="Resume" title="Claim runs again" />
      ) : (
        <CommandButton page={page} worker={worker} type="quiet" label="Quiet" title="Stop claiming runs; the runs it holds finish" />
      )}{' '}
      <CommandButton
        page={page}
        worker={worker}
        type="stop"
        label="Stop"
        title="Stop gracefully: claim nothing, let running handlers finish within the grace period, then exit"
        confirm={`Stop worker ${worker.id} on ${worker.host}? Its running handlers get the grace period; the process exits.`}
      />
    </span>
  )
}

/** What became of one held run: its state (and the worker it is on), or why it is gone. */
function Fate({ run }: { run: HeldRun }) {
  if (run.fate === 'awaiting-rescue' || run.fate === 'deleted' || run.fate === 'purged') return <span class="badge">{describeFate(run)}</span>
  return (
    <span>
      <StatusPill status={run.fate} />
      {run.fate === 'pending' ? <span class="faint small"> again</span> : null}
      {run.nowOn === null ? null : (
        <span class="faint small">
          {' '}
          on <span class="mono">{run.nowOn}</span>
        </span>
      )}
    </span>
  )
}

/** The runs a dead worker held, each linked, with its task, lost attempt and fate. */
export function HeldRuns({ page, worker }: { page: PageContext; worker: DeadWorker }) {
  if (worker.held.length === 0) return <span class="faint">none</span>
  return (
    <ul class="held-runs">
      {worker.held.map((run) => (
        <li data-held-run={run.id}>
          {run.fate === 'purged' ? (
            <span class="mono tag">{run.id.slice(-8)}</span>
          ) : (
            <a class="mono tag" href={`${page.admin}/runs/${run.id}`} title={run.label ?? run.id}>
              {run.id.slice(-8)}
            </a>
          )}{' '}
          <span class="held-task">{run.task ?? ''}</span> <Fate run={run} />
          {run.lostAttempt === null ? null : (
            <span class="faint small" title={run.lostAttempt.error?.message ?? undefined}>
              {' '}
              · attempt {run.lostAttempt.number} {run.lostAttempt.outcome === 'retry' ? 'lost, retried' : run.lostAttempt.outcome}
            </span>
          )}
        </li>
      ))}
      {worker.heldTotal > worker.held.length ? <li class="faint">and {worker.heldTotal - worker.held.length} more</li> : null}
    </ul>
  )
}
