/**
 * A run's timeline on its page: what happened to it, oldest first, from its attempts, the pools
 * it opened and its final state.
 */
import type { PoolReport } from '../../engine/engine.js'
import type { AuditEntry, Run } from '../../store/types.js'
import { Time } from './ui.js'

/** An audited action on a run as the timeline shows it: when, what, who (and with which token). */
export type TimelineAction = Pick<AuditEntry, 'at' | 'action' | 'actor' | 'tokenName'>

/** How the timeline says each audited action on a run. */
const ACTION_VERBS: Readonly<Record<string, string>> = {
  'run.enqueue': 'enqueued',
  'run.sync': 'run in-process',
  'run.start': 'started from the live view',
  'run.cancel': 'cancelled',
  'run.retry': 'retried',
  'run.delete': 'deleted',
}

/** What happened to the run, oldest first: from its attempts, its pools and its final state. */
export function Timeline({ run, pools, actions = [], now }: { run: Run; pools: readonly PoolReport[]; actions?: readonly TimelineAction[]; now: number }) {
  const items: { when: Date; text: string; kind: string }[] = [{ when: run.createdAt, text: 'created', kind: '' }]
  if (run.enqueuedAt.getTime() !== run.createdAt.getTime()) items.push({ when: run.enqueuedAt, text: 'pending again (retried)', kind: 'warn' })
  for (const a of run.attempts) {
    items.push({ when: a.startedAt, text: `attempt ${a.number} started`, kind: 'run' })
    items.push({ when: a.finishedAt, text: `attempt ${a.number}: ${a.outcome}${a.error === null ? '' : ` — ${a.error.message}`}`, kind: a.outcome === 'succeeded' ? 'ok' : a.outcome === 'failed' ? 'bad' : 'warn' })
  }
  const current = run.attempts.at(-1)?.number ?? 0
  if ((run.status === 'running' || run.status === 'waiting') && run.startedAt !== null && run.attempt > current) {
    items.push({ when: run.startedAt, text: `attempt ${run.attempt} started`, kind: 'run' })
  }
  // A run waits while a pool it opened has runs to finish, and resumes when the pool is done.
  for (const { pool, status } of pools) {
    const name = pool.label === null ? `pool ${pool.id.slice(-8)}` : `pool "${pool.label}"`
    items.push({ when: pool.createdAt, text: `opened ${name}`, kind: '' })
    if (run.status === 'waiting' && !status.done) {
      items.push({ when: pool.closedAt ?? pool.createdAt, text: `waiting on ${name}: ${status.complete} of ${status.total} done`, kind: 'wait' })
    } else if (status.done) {
      items.push({ when: new Date(pool.createdAt.getTime() + status.runtimeMs), text: `resumed: ${name} done (${status.succeeded} succeeded, ${status.failed} failed, ${status.cancelled} cancelled)`, kind: 'run' })
    }
  }
  // Who did what to it, from the audit trail: "cancelled by oncall", "retried by ci (token deploy)".
  for (const entry of actions) {
    const verb = ACTION_VERBS[entry.action]
    if (verb === undefined) continue
    const who = `${entry.actor}${entry.tokenName === null ? '' : ` (token ${entry.tokenName})`}`
    items.push({ when: entry.at, text: `${verb} by ${who}`, kind: entry.action === 'run.cancel' || entry.action === 'run.delete' ? 'warn' : 'who' })
  }
  if (run.status === 'pending' && run.runAt.getTime() > now) items.push({ when: run.runAt, text: 'due', kind: '' })
  if (run.cancelRequestedAt !== null) items.push({ when: run.cancelRequestedAt, text: `cancel requested${run.cancelReason === null ? '' : `: ${run.cancelReason}`}`, kind: 'warn' })
  // The end, unless its last attempt already says it (a run cancelled or expired while pending has none).
  const last = run.attempts.at(-1)
  if ((run.status === 'succeeded' || run.status === 'failed' || run.status === 'cancelled') && run.finishedAt !== null && last?.outcome !== run.status) {
    items.push({ when: run.finishedAt, text: `${run.status}${run.error === null ? '' : ` — ${run.error.message}`}`, kind: run.status === 'succeeded' ? 'ok' : run.status === 'failed' ? 'bad' : 'warn' })
  }
  items.sort((a, b) => a.when.getTime() - b.when.getTime())
  return (
    <ol class="timeline" id="run-timeline">
      {items.map((item) => (
        <li class={item.kind}>
          <div>{item.text}</div>
          <div class="when">
            <Time date={item.when} now={now} /> · {item.when.toISOString().replace('T', ' ').slice(0, 23)} UTC
          </div>
        </li>
      ))}
    </ol>
  )
}
