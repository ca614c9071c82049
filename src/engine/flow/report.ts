/**
 * Flow control as an operator sees it: every queue this engine knows of — those its tasks
 * enqueue into, those with limits (in code or changed live), and those with runs in the store —
 * idle ones included, and every task with limits or paused, each with the limits that hold now
 * and their usage: running now, starts in the current rate window, pending per group.
 */
import type { FlowUsage, FlowUsageQuery, QueueStats } from '../../store/types.js'
import { DEFAULT_QUEUE, type AnyTask } from '../../task/define.js'
import type { RateLimit } from '../../task/limits.js'
import { limitKey } from '../../store/claim-plan.js'
import type { FlowControl, QueueFlow, TaskFlow } from './flow-control.js'

/** One queue in a {@link FlowReport}. */
export interface QueueInfo {
  /** The queue's name. */
  readonly name: string
  /** At most this many of its runs executing at once across every worker; `null`: no such limit. */
  readonly concurrency: number | null
  /** At most `max` starts per `perMs` ms across every worker; `null`: no rate limit. */
  readonly rate: RateLimit | null
  /** Whether workers hold its runs back (`engine.updateQueue(name, { paused: true })`). */
  readonly paused: boolean
  /** The tasks registered here whose runs go to this queue unless an enqueue says otherwise. */
  readonly tasks: readonly string[]
  /** Pending runs, due or not. */
  readonly pending: number
  /** Runs executing (or waiting on their pools) now, on any worker. */
  readonly running: number
  /** Starts in the current rate window (`null` without a rate limit). */
  readonly startsInWindow: number | null
  /** When the longest-waiting pending run became due (`null` without pending runs due). */
  readonly oldestPendingAt: Date | null
  /** The earliest start of its pending runs, due or not (`null` without pending runs). */
  readonly nextDueAt: Date | null
}

/** Runs of one group key of a grouped task. */
export interface GroupInfo {
  readonly key: string
  readonly pending: number
  readonly running: number
}

/** One task with limits across workers (or paused) in a {@link FlowReport}. */
export interface TaskFlowInfo {
  /** The task's key. */
  readonly task: string
  /** The queue its runs go to by default. */
  readonly queue: string
  readonly concurrency: number | null
  readonly rate: RateLimit | null
  /** At most this many runs of one group key at once; `null`: not grouped. */
  readonly groupConcurrency: number | null
  readonly paused: boolean
  readonly pending: number
  readonly running: number
  /** Starts in the current rate window (`null` without a rate limit). */
  readonly startsInWindow: number | null
  /** Group keys with pending or running runs (`null`: not grouped). */
  readonly groupCount: number | null
  /** The groups with the most pending runs (at most 20), busiest first. */
  readonly groups: readonly GroupInfo[]
}

/** Limits across workers and their usage, by queue and by task. */
export interface FlowReport {
  readonly queues: readonly QueueInfo[]
  readonly tasks: readonly TaskFlowInfo[]
}

/** The groups listed per grouped task. */
const GROUPS_SHOWN = 20

/** What a report reads: the limits, the tasks, and the store's counts. */
export interface ReportSource {
  readonly flow: FlowControl
  readonly tasks: readonly AnyTask[]
  readonly queueStats: readonly QueueStats[]
  readonly now: number
  flowUsage(query: FlowUsageQuery): Promise<FlowUsage>
}

/** Whether a task or queue has anything flow control shows. */
const limited = (flow: QueueFlow | TaskFlow): boolean => flow.concurrency !== null || flow.rate !== null || flow.paused || ('groupConcurrency' in flow && flow.groupConcurrency !== null)

/** Builds the report (one read of usage from the store, only for what has limits). */
export async function flowReport(source: ReportSource): Promise<FlowReport> {
  const { flow, tasks, queueStats, now } = source
  const taskFlows = tasks.map((task) => ({ task, flow: flow.task(task.key) })).filter((t) => limited(t.flow))
  const names = new Set<string>([...tasks.map((t) => t.queue ?? DEFAULT_QUEUE), ...flow.limitedQueues(), ...queueStats.map((q) => q.queue)])
  const queueFlows = [...names].sort().map((name) => ({ name, flow: flow.queue(name) }))
  const rates: { key: string; since: number }[] = []
  for (const { task, flow: f } of taskFlows) if (f.rate !== null) rates.push({ key: limitKey('task', task.key), since: now - f.rate.perMs })
  for (const { name, flow: f } of queueFlows) if (f.rate !== null) rates.push({ key: limitKey('queue', name), since: now - f.rate.perMs })
  const grouped = taskFlows.filter((t) => t.flow.groupConcurrency !== null).map((t) => t.task.key)
  const usage =
    taskFlows.length === 0 && rates.length === 0 ? undefined : await source.flowUsage({ rates, tasks: taskFlows.map((t) => t.task.key), grouped, groupsLimit: GROUPS_SHOWN })
  const stats = new Map(queueStats.map((q) => [q.queue, q]))
  return {
    queues: queueFlows.map(({ name, flow: f }) => {
      const q = stats.get(name)
      return {
        name,
        concurrency: f.concurrency,
        rate: f.rate,
        paused: f.paused,
        tasks: tasks.filter((t) => (t.queue ?? DEFAULT_QUEUE) === name).map((t) => t.key),
        pending: q?.pending ?? 0,
        running: q?.running ?? 0,
        startsInWindow: f.rate === null ? null : (usage?.starts.get(limitKey('queue', name)) ?? 0),
        oldestPendingAt: q?.oldestPendingAt ?? null,
        nextDueAt: q?.nextDueAt ?? null,
      }
    }),
    tasks: taskFlows.map(({ task, flow: f }) => ({
      task: task.key,
      queue: task.queue ?? DEFAULT_QUEUE,
      concurrency: f.concurrency,
      rate: f.rate,
      groupConcurrency: f.groupConcurrency,
      paused: f.paused,
      pending: usage?.pending.get(task.key) ?? 0,
      running: usage?.running.get(task.key) ?? 0,
      startsInWindow: f.rate === null ? null : (usage?.starts.get(limitKey('task', task.key)) ?? 0),
      groupCount: f.groupConcurrency === null ? null : (usage?.groupCounts.get(task.key) ?? 0),
      groups: (usage?.groups ?? []).filter((g) => g.task === task.key).map((g) => ({ key: g.groupKey, pending: g.pending, running: g.running })),
    })),
  }
}
