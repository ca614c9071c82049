/** The run filter as command-line flags (`runs list`, and `runs cancel|retry|delete --all`). */
import type { Command } from 'commander'
import { ValidationError, describeValue } from '../errors.js'
import { RUN_STATES, type RunFilter, type RunState } from '../store/types.js'

/** The filter flags as commander gives them. */
export interface FilterFlags {
  status?: string
  task?: string
  queue?: string
  label?: string
  tag?: string
  createdBy?: string
  pool?: string
  parent?: string
  schedule?: string
  category?: string
  search?: string
  from?: string
  to?: string
}

/** Adds the filter flags to a command. */
export function addFilterFlags(command: Command): Command {
  return command
    .option('--status <list>', `comma-separated: ${RUN_STATES.join(', ')}`)
    .option('--task <key>', 'only this task')
    .option('--queue <name>', 'only this queue')
    .option('--label <label>', 'only this label')
    .option('--tag <tag>', 'only runs with this tag')
    .option('--created-by <user>', 'only runs created by this user')
    .option('--pool <id>', 'only runs of this pool')
    .option('--parent <id>', 'only children of this run')
    .option('--schedule <id>', 'only runs of this schedule')
    .option('--category <category>', 'user or system')
    .option('--search <text>', 'text in id, task, label or arguments')
    .option('--from <time>', 'created at or after (ISO time)')
    .option('--to <time>', 'created before (ISO time)')
}

/** The filter the flags give (a bad value is a `ValidationError` naming its flag). */
export function filterFromFlags(flags: FilterFlags): RunFilter {
  const filter: { -readonly [K in keyof RunFilter]: RunFilter[K] } = {}
  if (flags.status !== undefined) {
    const statuses = flags.status.split(',').map((s) => s.trim())
    for (const s of statuses) if (!RUN_STATES.includes(s as RunState)) throw new ValidationError(`--status: expected ${RUN_STATES.join(', ')}, got ${describeValue(s)}`)
    filter.status = statuses as RunState[]
  }
  for (const key of ['task', 'queue', 'label', 'tag', 'createdBy', 'search'] as const) if (flags[key] !== undefined) filter[key] = flags[key]
  if (flags.pool !== undefined) filter.poolId = flags.pool
  if (flags.parent !== undefined) filter.parentId = flags.parent
  if (flags.schedule !== undefined) filter.scheduleId = flags.schedule
  if (flags.category !== undefined) {
    if (flags.category !== 'user' && flags.category !== 'system') throw new ValidationError(`--category: expected user or system, got ${describeValue(flags.category)}`)
    filter.category = flags.category
  }
  for (const key of ['from', 'to'] as const) {
    const text = flags[key]
    if (text === undefined) continue
    const date = new Date(text)
    if (Number.isNaN(date.getTime())) throw new ValidationError(`--${key}: expected an ISO time, got ${describeValue(text)}`)
    filter[key] = date
  }
  return filter
}
