/**
 * Recording what callers of the server do in the audit trail (`engine.audit`): one call per
 * action, after it took effect, with the caller as {@link actorOf} sees it. A failing write is
 * reported (the action already happened; the error is the server's to show), never thrown at
 * the caller. The entries' shapes are in `engine/access/changes.ts`, shared with the CLI.
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
