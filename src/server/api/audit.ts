/**
 * The audit trail over HTTP: `GET /audit` (`audit:read`), newest first, filtered by actor,
 * action (`run.cancel`, or a prefix such as `run.`), target and time range, paged by `before`,
 * in every output format.
 */
import { Hono } from 'hono'
import type { AuditEntry } from '../../store/types.js'
import { requirePermission, type ServerEnv } from '../caller.js'
import { respond } from '../formats.js'
import { QueryReader } from '../query.js'
import type { RouteDeps } from './deps.js'

/** The CSV columns of audit entries. */
export const AUDIT_COLUMNS = ['id', 'at', 'actor', 'actorKind', 'tokenName', 'via', 'address', 'userAgent', 'action', 'target', 'before', 'after', 'details'] as const

export function auditRoutes({ engine }: RouteDeps): Hono<ServerEnv> {
  const routes = new Hono<ServerEnv>()

  routes.get('/audit', async (c) => {
    requirePermission(c, 'audit:read')
    const query = new QueryReader(c)
    const actor = query.string('actor')
    const action = query.string('action')
    const target = query.string('target')
    const from = query.time('from')
    const to = query.time('to')
    const before = query.string('before')
    const limit = query.int('limit', 1, 1000) ?? 50
    query.done()
    const page = await engine.audit.list({ limit, ...defined({ actor, action, target, from, to, before }) })
    return respond(c, page, { name: 'audit', rows: (p) => (p as { entries: AuditEntry[] }).entries.map(auditRow), columns: AUDIT_COLUMNS })
  })

  return routes
}

/** An entry as one flat row (CSV): values as JSON text. */
export function auditRow(e: AuditEntry): Record<(typeof AUDIT_COLUMNS)[number], unknown> {
  const json = (v: unknown): string => (v === null || v === undefined ? '' : JSON.stringify(v))
  return { ...e, at: e.at.toISOString(), before: json(e.before), after: json(e.after), details: json(e.details) }
}

function defined<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as never
}
