/**
 * One-time start tickets: the admin form's POST (CSRF token checked, a dangerous task
 * confirmed) earns one, and the live page's socket redeems it to start exactly that task with
 * exactly those arguments. A GET or a link can never start a run.
 */
import { randomUUID } from 'node:crypto'
import type { Engine } from '../../engine/engine.js'

/** How long a start ticket may wait for its socket. The live page opens it at once. */
const TICKET_TTL_MS = 2 * 60_000

/** What a start ticket stands for: one confirmed start of a task with these arguments. */
export interface StartTicket {
  readonly key: string
  readonly args: Readonly<Record<string, unknown>>
  readonly label: string | undefined
  readonly expiresAt: number
}

// Per engine, so two servers in one process never honour each other's tickets.
const tickets = new WeakMap<Engine, Map<string, StartTicket>>()

/**
 * Issues a one-time ticket that lets the live view's socket start `key` with `args` (already
 * validated and confirmed by the caller). It expires after two minutes or its first use.
 */
export function issueStartTicket(engine: Engine, key: string, args: Readonly<Record<string, unknown>>, label: string | undefined, now = Date.now()): string {
  let issued = tickets.get(engine)
  if (issued === undefined) tickets.set(engine, (issued = new Map<string, StartTicket>()))
  for (const [id, ticket] of issued) if (ticket.expiresAt <= now) issued.delete(id)
  const id = randomUUID()
  issued.set(id, { key, args, label, expiresAt: now + TICKET_TTL_MS })
  return id
}

/** Takes a ticket for `key` out of circulation; `undefined` when unknown, used, expired or for another task. */
export function redeemTicket(engine: Engine, key: string, id: string, now = Date.now()): StartTicket | undefined {
  const issued = tickets.get(engine)
  const ticket = issued?.get(id)
  if (ticket === undefined) return undefined
  issued!.delete(id)
  return ticket.key === key && ticket.expiresAt > now ? ticket : undefined
}
