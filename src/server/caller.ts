/**
 * The caller of a route: its identity (set by the authentication middleware), the permissions
 * it holds, and which runs it may read (every run, or only those it created).
 */
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context, MiddlewareHandler } from 'hono'
import type { Actor } from '../engine/access/audit.js'
import type { Run } from '../store/types.js'
import { can, type AuthResolver, type Identity, type Permission } from './auth.js'
import { HttpError } from './http-errors.js'

/** Hono environment of the server's routes. */
export interface ServerEnv {
  Variables: {
    identity: Identity
  }
}

export type ServerContext = Context<ServerEnv>

/** Whose runs a caller may read: every run (`runs:read`), or only those it created (`runs:read:own`). */
export interface RunScope {
  readonly all: boolean
  /** The caller, compared with a run's `createdBy` when `all` is false. */
  readonly id: string
}

/**
 * Resolves the caller (401 otherwise). The admin UI's sign-in page and static files need no
 * identity; an admin page asked for without one sends the browser to sign in.
 */
export function authenticate(auth: AuthResolver, admin: string): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const path = new URL(c.req.url).pathname
    if (path === `${admin}/login` || path.startsWith(`${admin}/assets/`)) return next()
    const who = await auth(c.req.raw)
    if (who === null && c.req.method === 'GET' && (path === admin || path.startsWith(`${admin}/`)) && (c.req.header('accept') ?? '').includes('text/html')) {
      return c.redirect(`${admin}/login?next=${encodeURIComponent(path + new URL(c.req.url).search)}`, 303)
    }
    if (who === null) {
      c.header('www-authenticate', 'Bearer realm="taskengine"')
      throw new HttpError('ERR_UNAUTHENTICATED', 'authentication required: send Authorization: Bearer <token>')
    }
    c.set('identity', who)
    await next()
  }
}

/** The caller; routes behind the auth middleware always have one. */
export function identity(c: ServerContext): Identity {
  return c.get('identity')
}

/** Throws 403 unless the caller may do `permission`. */
export function requirePermission(c: ServerContext, permission: Permission): Identity {
  const who = identity(c)
  if (!can(who, permission)) throw new HttpError('ERR_FORBIDDEN', `forbidden: "${who.id}" lacks the "${permission}" permission`)
  return who
}

/** Whether the caller reads every run (`runs:read`) or only its own (`runs:read:own`); 403 when neither. */
export function readScope(c: ServerContext): RunScope {
  const scope = runScope(c)
  if (scope === null) throw new HttpError('ERR_FORBIDDEN', `forbidden: "${identity(c).id}" lacks the "runs:read" permission`)
  return scope
}

/** Which runs the caller may read: all, only its own, or none (`null`). */
export function runScope(c: ServerContext): RunScope | null {
  const who = identity(c)
  if (can(who, 'runs:read')) return { all: true, id: who.id }
  if (can(who, 'runs:read:own')) return { all: false, id: who.id }
  return null
}

/** Whether a run is one the caller may read under `scope` (others' runs do not exist for an own-runs-only caller). */
export function mayRead(scope: RunScope, run: Pick<Run, 'createdBy'>): boolean {
  return scope.all || run.createdBy === scope.id
}

/**
 * A schedule as the caller may see it: its last run only when the caller may read that run
 * (schedules:read alone shows the definitions and their state, not other people's runs).
 */
export function scheduleForCaller<S extends { readonly lastRun: Run | null }>(c: ServerContext, schedule: S): S {
  const run = schedule.lastRun
  if (run === null) return schedule
  const scope = runScope(c)
  return scope !== null && mayRead(scope, run) ? schedule : { ...schedule, lastRun: null }
}

/**
 * Who the caller is for the audit trail, and from where: its identity, the surface (`admin` for
 * the admin UI's pages and forms, `api` otherwise), its address and user agent. An anonymous
 * loopback caller is recorded as `api`.
 */
export function actorOf(c: ServerContext, via?: string): Actor {
  const who = identity(c)
  const path = new URL(c.req.url).pathname
  const surface = via ?? (/\/admin(\/|$)/.test(path) && !/\/api\//.test(path) ? 'admin' : 'api')
  const kind = who.kind ?? 'host'
  return {
    id: kind === 'anonymous' ? 'api' : who.id,
    kind,
    tokenName: who.tokenName ?? null,
    via: surface,
    address: addressOf(c),
    userAgent: c.req.header('user-agent') ?? null,
  }
}

/** The caller's network address (the socket's; proxies' forwarding headers are not trusted), or `null` when not served over a socket. */
export function addressOf(c: ServerContext): string | null {
  try {
    return getConnInfo(c).remote.address ?? null
  } catch {
    return null
  }
}

/**
 * Throws 403 unless the caller may enqueue runs: `tasks:run`, or the former `runs:write`, which
 * allowed enqueueing before it was split (host resolvers that grant it keep working).
 */
export function requireEnqueue(c: ServerContext): Identity {
  const who = identity(c)
  if (can(who, 'tasks:run') || who.permissions.includes('runs:write')) return who
  throw new HttpError('ERR_FORBIDDEN', `forbidden: "${who.id}" lacks the "tasks:run" permission`)
}
