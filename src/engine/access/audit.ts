/**
 * The audit trail: who did what, when, from where, to which target, with the values before and
 * after. The server, the admin UI and the CLI record every operator action through
 * {@link Audit.record}; entries are only ever appended (retention deletes the oldest).
 */
import type { AuditActorKind, AuditEntry, AuditFilter, AuditPage, Store } from '../../store/types.js'
import { ValidationError, describeValue } from '../../errors.js'
import { newId } from '../ids.js'

/** Who acts, and through what. */
export interface Actor {
  /** A user name, `token` (the shared server token), `api` (anonymous loopback HTTP), `cli`, `amqp` (the AMQP bridge), or a host identity's id. */
  readonly id: string
  readonly kind: AuditActorKind
  /** The user API token used, by name. */
  readonly tokenName?: string | null
  /** `api`, `admin`, `stream`, `cli`, `engine`, `amqp`. */
  readonly via: string
  readonly address?: string | null
  readonly userAgent?: string | null
}

/** What an entry says besides who: the action, its target and values. */
export interface AuditAction {
  /** `noun.verb`: `run.cancel`, `bulk.retry`, `schedule.toggle`, `user.add`, `login.failed`, … */
  readonly action: string
  readonly target?: string | null
  readonly before?: unknown
  readonly after?: unknown
  readonly details?: unknown
}

/** What {@link Audit} needs from the engine. */
export interface AuditHost {
  readonly store: () => Promise<Store>
  readonly now: () => number
}

/** The most characters of a user agent an entry keeps. */
export const USER_AGENT_MAX = 300

/** The audit trail of an engine's store. */
export class Audit {
  readonly #host: AuditHost

  constructor(host: AuditHost) {
    this.#host = host
  }

  /** Appends one entry (awaited: the caller reports a failure rather than losing it silently). */
  async record(actor: Actor, what: AuditAction): Promise<void> {
    const store = await this.#host.store()
    await store.appendAudit([
      {
        id: newId(),
        at: this.#host.now(),
        actor: actor.id,
        actorKind: actor.kind,
        tokenName: actor.tokenName ?? null,
        via: actor.via,
        address: actor.address ?? null,
        userAgent: actor.userAgent === undefined || actor.userAgent === null ? null : actor.userAgent.slice(0, USER_AGENT_MAX),
        action: what.action,
        target: what.target ?? null,
        before: what.before ?? null,
        after: what.after ?? null,
        details: what.details ?? null,
      },
    ])
  }

  /** Entries, newest first, filtered (every key narrows). */
  async list(filter: AuditFilter = {}): Promise<AuditPage> {
    if (filter.limit !== undefined && (!Number.isInteger(filter.limit) || filter.limit < 1 || filter.limit > 1000)) {
      throw new ValidationError(`limit: expected an integer from 1 to 1000, got ${describeValue(filter.limit)}`)
    }
    return (await this.#host.store()).listAudit(filter)
  }

  /** How many `action` entries there are since `since`, for a target and/or an address. */
  async count(query: { readonly action: string; readonly since: number; readonly target?: string; readonly address?: string }): Promise<number> {
    return (await this.#host.store()).countAudit(query)
  }
}

export type { AuditEntry, AuditFilter, AuditPage }
