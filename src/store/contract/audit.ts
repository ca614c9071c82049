/**
 * The audit role: an append-only record of what operators did — who, when, from where, what, to
 * which target, with the values before and after. The product only appends and, for retention,
 * deletes the oldest entries; nothing updates an entry.
 */

/** Who acted: a signed-in user, a user's API token, the shared server token, an anonymous loopback caller, the CLI, the host's own resolver, or the AMQP bridge (a request from the broker). */
export type AuditActorKind = 'user' | 'token' | 'shared-token' | 'anonymous' | 'cli' | 'host' | 'amqp'

/** One audit entry as stored. */
export interface AuditEntry {
  /** UUIDv7 made by the engine: entries sort by id as by time. */
  readonly id: string
  readonly at: Date
  /** Who: a user name, `token` (the shared server token), `api` (anonymous loopback HTTP), `cli`, `amqp`, or a host identity's id. */
  readonly actor: string
  readonly actorKind: AuditActorKind
  /** The name of the user's API token that acted (`null` otherwise). */
  readonly tokenName: string | null
  /** The surface: `api`, `admin`, `stream`, `cli`, `engine`, `amqp`. */
  readonly via: string
  /** The caller's address (HTTP), or the host and OS user for the CLI. */
  readonly address: string | null
  readonly userAgent: string | null
  /** What was done, as `noun.verb`: `run.cancel`, `bulk.retry`, `schedule.toggle`, `user.add`, `login.failed`, … */
  readonly action: string
  /** What it was done to: a run id, schedule id, user name, queue, worker id, setting group. */
  readonly target: string | null
  /** The values before (plain JSON; `null` when not relevant). */
  readonly before: unknown
  /** The values after (plain JSON; `null` when not relevant). */
  readonly after: unknown
  /** Anything else worth keeping: a bulk job's filter and counts, a task's args, a reason. */
  readonly details: unknown
}

/** An entry to append (the store keeps exactly these values). */
export interface NewAuditEntry extends Omit<AuditEntry, 'at'> {
  readonly at: number
}

/** Which entries to read; every key narrows. */
export interface AuditFilter {
  readonly actor?: string
  /** An action (`run.cancel`), or a prefix ending in `.` (`run.`: every run action). */
  readonly action?: string
  readonly target?: string
  /** Only entries at or after this time. */
  readonly from?: Date
  /** Only entries before this time. */
  readonly to?: Date
  /** Keyset paging: only entries older than this id. */
  readonly before?: string
  /** At most this many (default 50, at most 1000). */
  readonly limit?: number
}

/** A page of entries, newest first. */
export interface AuditPage {
  readonly entries: readonly AuditEntry[]
  /** Pass as `before` for the next page; `null` when this is the last. */
  readonly next: string | null
}

/** The audit role. */
export interface AuditStore {
  /** Appends entries, in one transaction. */
  appendAudit(entries: readonly NewAuditEntry[]): Promise<void>
  /** Entries matching the filter, newest first. */
  listAudit(filter: AuditFilter): Promise<AuditPage>
  /**
   * How many `action` entries there are since `since` for a target and/or an address (at
   * least one given): the engine throttles sign-in with the failed attempts it recorded.
   */
  countAudit(query: { readonly action: string; readonly since: number; readonly target?: string; readonly address?: string }): Promise<number>
  /** Deletes entries older than `before`, at most `limit`; returns how many. */
  purgeAudit(before: number, limit: number): Promise<number>
}
