/**
 * Run events as AMQP messages: the routing key `runs.<task>.<event>.<runId>` and a JSON body.
 * Topic routing keys split words at dots, and a task key may hold dots: each dot of a task key
 * is written `%2E` (task keys never hold `%`), so `runs.*.failed.*` still means "every task".
 */
import type { RunEvent } from '../engine/events/run-events.js'
import type { Run } from '../store/types.js'
import type { RunResult } from '../task/context.js'
import { jsonText } from '../json-text.js'

/** The routing key of an event: `runs.<task, dots as %2E>.<event type>.<run id>`. */
export function routingKeyOf(event: Pick<RunEvent, 'task' | 'type' | 'runId'>): string {
  return `runs.${taskWord(event.task)}.${event.type}.${event.runId}`
}

/**
 * A task key as one word of a routing key (dots as `%2E`), for bindings of a task's events.
 *
 * @example
 * channel.bindQueue(q, 'taskengine.events', `runs.${taskWord('mail.send')}.#`)
 */
export function taskWord(task: string): string {
  return task.replaceAll('.', '%2E')
}

/**
 * The JSON body of an event: its own fields (type, runId, task, time, poolId, and what the type
 * carries: progress, a log entry, an error, attempt, runAt, durationMs, tags), without the
 * full run and result objects; a `created` event adds the run's label, queue, creator and
 * request id, a `succeeded` one of an in-process run its result's data (a durable run's data is
 * read from the run: `GET /api/runs/<id>`). `seq` numbers the bridge's events in the order
 * they happened (a consumer can drop a repeat after a reconnect). A bigint (in a result's data)
 * is written as its decimal string.
 */
export function eventBody(event: RunEvent, seq: number): Buffer {
  const { run, result, remote: _remote, ...own } = event as RunEvent & { run?: Run; result?: RunResult }
  const body: Record<string, unknown> = { ...own, seq }
  if (event.type === 'created' && run !== undefined) Object.assign(body, { label: run.label, queue: run.queue, createdBy: run.createdBy, requestId: run.requestId })
  if (event.type === 'succeeded' && result !== undefined) body.data = result.data ?? null
  return Buffer.from(jsonText(body))
}
