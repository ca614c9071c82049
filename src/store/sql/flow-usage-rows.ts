/** The usage of limits across workers from rows both SQL backends return (see `AdminStore.flowUsage`). */
import type { FlowUsage, FlowUsageQuery, GroupUsage } from '../contract/admin.js'

/** Count rows: a key and a count (counts may come back as text from PostgreSQL). */
export type CountRow = [key: string, n: number | string]
/** Group rows: task, group key, count. */
export type GroupRow = [task: string, groupKey: string, n: number | string]

/** Folds the counted rows into {@link FlowUsage}: every key asked for is present (0 when none). */
export function flowUsageFrom(query: FlowUsageQuery, rows: { starts: readonly CountRow[]; pending: readonly CountRow[]; running: readonly CountRow[]; groupPending: readonly GroupRow[]; groupRunning: readonly GroupRow[] }): FlowUsage {
  const counts = (keys: readonly string[], found: readonly CountRow[]): Map<string, number> => {
    const map = new Map(keys.map((key) => [key, 0]))
    for (const [key, n] of found) map.set(key, Number(n))
    return map
  }
  const groups = new Map<string, { task: string; groupKey: string; pending: number; running: number }>()
  const group = (task: string, groupKey: string): { pending: number; running: number } => {
    const id = `${task}\u0000${groupKey}`
    let entry = groups.get(id)
    if (entry === undefined) groups.set(id, (entry = { task, groupKey, pending: 0, running: 0 }))
    return entry
  }
  for (const [task, key, n] of rows.groupPending) group(task, key).pending = Number(n)
  for (const [task, key, n] of rows.groupRunning) group(task, key).running = Number(n)
  const groupCounts = new Map(query.grouped.map((task) => [task, 0]))
  const byTask = new Map<string, GroupUsage[]>()
  for (const entry of groups.values()) {
    groupCounts.set(entry.task, (groupCounts.get(entry.task) ?? 0) + 1)
    const list = byTask.get(entry.task) ?? []
    list.push(entry)
    byTask.set(entry.task, list)
  }
  const busiest: GroupUsage[] = []
  for (const list of byTask.values()) {
    list.sort((a, b) => b.pending - a.pending || b.running - a.running || (a.groupKey < b.groupKey ? -1 : 1))
    busiest.push(...list.slice(0, query.groupsLimit))
  }
  return {
    starts: counts(query.rates.map((r) => r.key), rows.starts),
    pending: counts(query.tasks, rows.pending),
    running: counts(query.tasks, rows.running),
    groups: busiest,
    groupCounts,
  }
}
