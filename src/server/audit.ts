/**
 * Recording what callers of the server do in the audit trail (`engine.audit`): one call per
 * action, after it took effect, with the caller as {@link actorOf} sees it. A failing write is
 * reported (the action already happened; the error is the server's to show), never thrown at
 * the caller.
 */
import type { AuditAction } from '../engine/access/audit.js'
import type { Engine } from '../engine/engine.js'
import { coerceError } from '../errors.js'
import { actorOf, type ServerContext } from './caller.js'

/** What recording needs. */
export interface AuditDeps {
  readonly engine: Engine
  readonly report?: ((error: Error) => void) | undefined
}

/** Records an action of the caller of `c`. */
export async function recordAction(c: ServerContext, deps: AuditDeps, what: AuditAction, via?: string): Promise<void> {
  try {
    await deps.engine.audit.record(actorOf(c, via), what)
  } catch (error) {
    ;(deps.report ?? ((e: Error) => console.error('[taskengine server]', e)))(coerceError(error))
  }
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
