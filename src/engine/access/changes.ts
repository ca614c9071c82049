/**
 * The audit entries of changes that more than one surface records (the HTTP API, the admin UI,
 * the CLI): one shape per kind of change, so the trail reads the same whoever acted and however.
 */
import type { Run } from '../../store/types.js'
import type { AuditAction } from './audit.js'

/**
 * An entry for a change to one run (`run.cancel`, `run.retry`, `run.delete`): its status before
 * and after (and the attempt when it changed; a cancel that waits for a running handler says
 * `cancelRequested`), the task and `details`.
 */
export function runChange(action: string, before: Run, after: Run, details?: unknown): AuditAction {
  const state = (run: Run) => ({
    status: run.status,
    ...(before.attempt === after.attempt ? {} : { attempt: run.attempt }),
    ...(run.cancelRequestedAt !== null && (run.status === 'running' || run.status === 'waiting') ? { cancelRequested: true } : {}),
  })
  return { action, target: before.id, before: state(before), after: state(after), details: { task: before.task, ...(typeof details === 'object' && details !== null ? details : {}) } }
}

/** An entry for a settings change: only the keys whose values changed, before and after. */
export function settingsChange(before: object, after: object): AuditAction {
  const was: Record<string, unknown> = {}
  const now: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(after)) {
    const old = (before as Record<string, unknown>)[key]
    if (JSON.stringify(old) !== JSON.stringify(value)) {
      was[key] = old ?? null
      now[key] = value
    }
  }
  return { action: 'settings.update', target: 'settings', before: was, after: now }
}

const LIMIT_KEYS = ['concurrency', 'rate', 'groupConcurrency', 'paused'] as const

/**
 * An entry for a change to a queue's or task's limits: `queue.pause` / `queue.resume` (and
 * `task.…`) when the patch only pauses or resumes, else `queue.limits` / `task.limits`; the
 * limits before and after.
 */
export function limitsChange(kind: 'queue' | 'task', name: string, before: object | undefined, after: object, patch: object): AuditAction {
  const keys = Object.keys(patch)
  const paused = (patch as { paused?: unknown }).paused
  const action = keys.length === 1 && typeof paused === 'boolean' ? `${kind}.${paused ? 'pause' : 'resume'}` : `${kind}.limits`
  return { action, target: name, before: before === undefined ? null : pick(before), after: pick(after), details: { patch } }
}

function pick(limits: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of LIMIT_KEYS) if (key in limits) out[key] = (limits as Record<string, unknown>)[key] ?? null
  return out
}
