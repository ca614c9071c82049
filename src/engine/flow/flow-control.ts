/**
 * Flow control as every worker applies it: the limits across workers of each task and queue —
 * as code defines them (`defineTask({ limits })`, `createEngine({ queues })`) with the changes
 * operators made live (`engine.updateQueue`, `engine.updateTask`) on top — and their paused state.
 *
 * Live changes are stored with the shared settings (keys `flow.queue.<name>` and
 * `flow.task.<key>`), so every process on the store reads them at its next heartbeat (at once
 * where the store signals changes); a worker compiles them into a {@link FlowPolicy} that its
 * claims carry to the store, which enforces them.
 */
import { NotFoundError, ValidationError, describeValue, type FieldIssue } from '../../errors.js'
import { checkOptionKeys, optionKeys } from '../../options.js'
import { checkQueueName, type AnyTask } from '../../task/define.js'
import { MAX_LIMIT, checkLimit, checkRate, type QueueLimits, type RateLimit } from '../../task/limits.js'
import type { TaskRegistry } from '../../task/registry.js'

/**
 * A live change to a queue's limits (`engine.updateQueue`): a number or `{ max, perMs }` sets
 * the limit, `null` removes it (also one set in code), a key left out keeps what holds now.
 */
export interface QueuePatch {
  /** At most this many of its runs executing at once across every worker; `null`: no limit. */
  readonly concurrency?: number | null
  /** At most `max` starts per `perMs` ms across every worker; `null`: no rate limit. */
  readonly rate?: RateLimit | null
  /** `true`: workers start none of its runs (running ones finish; pending ones wait); `false`: resume. */
  readonly paused?: boolean
}

/** A live change to a task's limits (`engine.updateTask`); see {@link QueuePatch}. */
export interface TaskPatch extends QueuePatch {
  /** At most this many runs of one group key at once (runs need a group key); `null`: no per-group limit. */
  readonly groupConcurrency?: number | null
}

/** The limits that hold now for a queue. */
export interface QueueFlow {
  readonly concurrency: number | null
  readonly rate: RateLimit | null
  readonly paused: boolean
}

/** The limits that hold now for a task. */
export interface TaskFlow extends QueueFlow {
  readonly groupConcurrency: number | null
}

/** The limits a worker's claims carry (see `ClaimRequest`), compiled from every task and queue. */
export interface FlowPolicy {
  readonly taskConcurrency: ReadonlyMap<string, number>
  readonly queueConcurrency: ReadonlyMap<string, number>
  readonly taskRates: ReadonlyMap<string, RateLimit>
  readonly queueRates: ReadonlyMap<string, RateLimit>
  readonly groups: ReadonlyMap<string, number>
  readonly pausedTasks: ReadonlySet<string>
  readonly pausedQueues: ReadonlySet<string>
}

/** No limits across workers, nothing paused. */
export const NO_FLOW: FlowPolicy = Object.freeze({
  taskConcurrency: new Map(),
  queueConcurrency: new Map(),
  taskRates: new Map(),
  queueRates: new Map(),
  groups: new Map(),
  pausedTasks: new Set<string>(),
  pausedQueues: new Set<string>(),
})

const QUEUE_PATCH_KEYS = optionKeys<QueuePatch>({ concurrency: true, rate: true, paused: true })
const TASK_PATCH_KEYS = optionKeys<TaskPatch>({ concurrency: true, rate: true, paused: true, groupConcurrency: true })

/** The settings key of a queue's or task's live limits. */
export const flowKey = (kind: 'queue' | 'task', name: string): string => `flow.${kind}.${name}`
const FLOW_PREFIX = 'flow.'

/** What flow control needs from the engine. */
export interface FlowHost {
  readonly registry: TaskRegistry
  /** `EngineOptions.queues`. */
  readonly queueDefaults: ReadonlyMap<string, QueueLimits>
  /** The stored shared settings as last read (`undefined` before the first read). */
  stored(): Readonly<Record<string, unknown>> | undefined
  /** Reads them again from the store. */
  reload(): Promise<Readonly<Record<string, unknown>>>
  /** Stores values by key, tells the other processes, and re-reads. */
  save(values: Readonly<Record<string, unknown>>): Promise<void>
}

type Override = { -readonly [K in keyof TaskPatch]: TaskPatch[K] }

export class FlowControl {
  readonly #host: FlowHost
  #policy: FlowPolicy | undefined
  #policyFrom: { stored: unknown; tasks: readonly AnyTask[] } | undefined

  constructor(host: FlowHost) {
    this.#host = host
  }

  /** The limits claims carry now (rebuilt only when the tasks or the stored changes differ). */
  policy(): FlowPolicy {
    const stored = this.#host.stored()
    const tasks = this.#host.registry.list()
    if (this.#policy !== undefined && this.#policyFrom !== undefined && this.#policyFrom.stored === stored && this.#policyFrom.tasks === tasks) return this.#policy
    const policy = {
      taskConcurrency: new Map<string, number>(),
      queueConcurrency: new Map<string, number>(),
      taskRates: new Map<string, RateLimit>(),
      queueRates: new Map<string, RateLimit>(),
      groups: new Map<string, number>(),
      pausedTasks: new Set<string>(),
      pausedQueues: new Set<string>(),
    }
    for (const task of tasks) {
      const flow = this.task(task.key)
      if (flow.concurrency !== null) policy.taskConcurrency.set(task.key, flow.concurrency)
      if (flow.rate !== null) policy.taskRates.set(task.key, flow.rate)
      if (flow.groupConcurrency !== null) policy.groups.set(task.key, flow.groupConcurrency)
      if (flow.paused) policy.pausedTasks.add(task.key)
    }
    for (const name of this.limitedQueues()) {
      const flow = this.queue(name)
      if (flow.concurrency !== null) policy.queueConcurrency.set(name, flow.concurrency)
      if (flow.rate !== null) policy.queueRates.set(name, flow.rate)
      if (flow.paused) policy.pausedQueues.add(name)
    }
    this.#policy = policy
    this.#policyFrom = { stored, tasks }
    return policy
  }

  /** The limits of a queue now: its stored changes over `EngineOptions.queues`. */
  queue(name: string): QueueFlow {
    const code = this.#host.queueDefaults.get(name)
    const live = this.#override(flowKey('queue', name))
    return {
      concurrency: pick(live.concurrency, code?.concurrency),
      rate: pick(live.rate, code?.rate),
      paused: live.paused ?? false,
    }
  }

  /** The limits of a registered task now: its stored changes over its `limits`. */
  task(key: string): TaskFlow {
    const code = this.#host.registry.get(key)?.limits
    const live = this.#override(flowKey('task', key))
    return {
      concurrency: pick(live.concurrency, code?.concurrency),
      rate: pick(live.rate, code?.rate),
      groupConcurrency: pick(live.groupConcurrency, code?.groupConcurrency),
      paused: live.paused ?? false,
    }
  }

  /** Queues with limits in code or live changes stored. */
  limitedQueues(): string[] {
    const names = new Set(this.#host.queueDefaults.keys())
    const prefix = `${FLOW_PREFIX}queue.`
    for (const key of Object.keys(this.#host.stored() ?? {})) if (key.startsWith(prefix)) names.add(key.slice(prefix.length))
    return [...names]
  }

  /**
   * Changes a queue's limits live, on every worker sharing the store (at their next heartbeat)
   * and persisted. `known` says whether the queue exists (a task's queue, one with limits or runs);
   * an unknown one is a `NotFoundError`, a bad patch a `ValidationError` naming each field.
   */
  async updateQueue(name: string, patch: unknown, known: (name: string) => Promise<boolean>): Promise<QueueFlow> {
    checkQueueName(name, 'updateQueue: queue', ValidationError)
    const change = checkPatch(patch, QUEUE_PATCH_KEYS, `updateQueue("${name}")`)
    if (!this.#host.queueDefaults.has(name) && !(await known(name))) {
      throw new NotFoundError(`unknown queue "${name}": no task enqueues into it, no limits name it and no run is in it`)
    }
    await this.#save(flowKey('queue', name), change)
    return this.queue(name)
  }

  /** Changes a registered task's limits live (see {@link updateQueue}); an unknown task is a `NotFoundError`. */
  async updateTask(key: string, patch: unknown): Promise<TaskFlow> {
    this.#host.registry.require(key)
    const change = checkPatch(patch, TASK_PATCH_KEYS, `updateTask("${key}")`)
    await this.#save(flowKey('task', key), change)
    return this.task(key)
  }

  async #save(key: string, change: Override): Promise<void> {
    const stored = await this.#host.reload()
    const merged = { ...readOverride(stored[key]), ...change }
    await this.#host.save({ [key]: merged })
  }

  #override(key: string): Override {
    return readOverride(this.#host.stored()?.[key])
  }
}

/** A live value over the code's: `undefined` keeps the code's, `null` is none. */
function pick<T>(live: T | null | undefined, code: T | undefined): T | null {
  return live === undefined ? (code ?? null) : live
}

/** A stored change, its bad fields dropped (a value written by hand, or by a later version). */
function readOverride(value: unknown): Override {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {}
  const out: Override = {}
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    try {
      Object.assign(out, checkPatch({ [key]: field }, TASK_PATCH_KEYS, 'stored'))
    } catch {
      // Ignored: the code's limit holds.
    }
  }
  return out
}

/** Checks a patch; throws a `ValidationError` naming each bad field (in `fields`); returns the change. */
function checkPatch(patch: unknown, keys: readonly string[], where: string): Override {
  checkOptionKeys(patch, keys, where)
  const out: Override = {}
  const issues: FieldIssue[] = []
  const field = <K extends keyof Override>(key: K, expected: string, check: (value: unknown) => Override[K]): void => {
    const value = (patch as Record<string, unknown>)[key]
    if (value === undefined) return
    try {
      out[key] = (value === null && key !== 'paused' ? null : check(value)) as Override[K]
    } catch (error) {
      issues.push({ key, expected, received: describeValue(value), message: (error as Error).message.replace(`${where}: `, '') })
    }
  }
  field('concurrency', `an integer from 1 to ${MAX_LIMIT}, or null`, (v) => checkLimit(v, where, 'concurrency', ValidationError))
  field('groupConcurrency', `an integer from 1 to ${MAX_LIMIT}, or null`, (v) => checkLimit(v, where, 'groupConcurrency', ValidationError))
  field('rate', '{ max, perMs }, or null', (v) => checkRate(v, where, 'rate', ValidationError))
  field('paused', 'true or false', (v) => {
    if (typeof v !== 'boolean') throw new ValidationError(`paused must be true or false, got ${describeValue(v)}`)
    return v
  })
  if (issues.length > 0) throw new ValidationError(where, issues)
  return out
}
