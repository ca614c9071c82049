/**
 * Who the CLI is in the audit trail: the actor `cli`, via `cli`, from `<os user>@<host>`, with
 * the version as its user agent. Every command that changes something records itself with
 * {@link recordCli} after the change took effect.
 */
import { hostname } from 'node:os'
import type { Actor, AuditAction } from '../engine/access/audit.js'
import type { Engine } from '../engine/engine.js'
import { coerceError } from '../errors.js'
import { VERSION } from '../version.js'
import { cliUser, type CliIo } from './io.js'

/** The CLI as an audit actor: `{ id: 'cli', kind: 'cli', via: 'cli', address: 'alice@build-7', userAgent: 'taskengine/1.2.0' }`. */
export function cliActor(io: CliIo): Actor {
  return { id: 'cli', kind: 'cli', via: 'cli', address: `${cliUser(io)}@${hostname()}`, userAgent: `taskengine/${VERSION}` }
}

/**
 * Records what the CLI did. The change already happened, so a failing write does not fail the
 * command (the caller would retry a done action): it is reported on stderr as a warning.
 */
export async function recordCli(engine: Engine, io: CliIo, what: AuditAction): Promise<void> {
  try {
    await engine.audit.record(cliActor(io), what)
  } catch (error) {
    io.stderr.write(`taskengine: warning: ${what.action}${what.target === undefined || what.target === null ? '' : ` ${what.target}`} was done, but the audit trail could not record it: ${coerceError(error).message}\n`)
  }
}
