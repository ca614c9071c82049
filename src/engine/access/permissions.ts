/**
 * Permission codes and roles. A caller holds permission codes (or `*`); a built-in user holds
 * those of their role. Roles map names to codes and are configurable; the defaults follow the
 * background-task seed's split: viewers read, operators also start, cancel, retry and toggle
 * schedules, admins do everything (users, settings, deleting runs, workers).
 */
import { ValidationError, describeValue } from '../../errors.js'

/** Every permission code. `runs:write` is the former single code for cancel, retry and delete, still honoured. */
export const PERMISSIONS = [
  'tasks:read',
  'tasks:run',
  'runs:read',
  'runs:read:own',
  'runs:cancel',
  'runs:retry',
  'runs:delete',
  'runs:write',
  'workers:read',
  'workers:write',
  'metrics:read',
  'schedules:read',
  'schedules:write',
  'settings:read',
  'settings:write',
  'users:read',
  'users:write',
  'audit:read',
] as const
export type Permission = (typeof PERMISSIONS)[number]

/** Codes that the former `runs:write` stands for. */
const RUNS_WRITE_IMPLIES: readonly Permission[] = ['runs:cancel', 'runs:retry', 'runs:delete']

/** Whether a set of codes grants `permission` (`*` grants all; `runs:write` grants cancel, retry and delete). */
export function grants(codes: readonly string[], permission: Permission): boolean {
  if (codes.includes('*') || codes.includes(permission)) return true
  return RUNS_WRITE_IMPLIES.includes(permission) && codes.includes('runs:write')
}

/** Role names and their permission codes. */
export type Roles = Readonly<Record<string, readonly (Permission | '*')[]>>

const READ_ALL: readonly Permission[] = ['tasks:read', 'runs:read', 'workers:read', 'metrics:read', 'schedules:read', 'settings:read']

/** The default roles: viewer (read all), operator (read all, start, cancel, retry, toggle schedules), admin (everything). */
export const DEFAULT_ROLES: Roles = Object.freeze({
  viewer: Object.freeze([...READ_ALL]),
  operator: Object.freeze([...READ_ALL, 'tasks:run', 'runs:cancel', 'runs:retry', 'schedules:write'] as Permission[]),
  admin: Object.freeze(['*'] as const),
})

const ROLE_NAME = /^[a-z][a-z0-9_-]{0,31}$/

/**
 * Checks a role map: names of lowercase letters, digits, `-`, `_` (at most 32), each a list of
 * known codes or `*`. Throws a `ValidationError` naming the bad role or code.
 */
export function checkRoles(roles: unknown, where = 'roles'): Roles {
  if (typeof roles !== 'object' || roles === null || Array.isArray(roles)) throw new ValidationError(`${where}: expected an object of role names to permission lists, got ${describeValue(roles)}`)
  const entries = Object.entries(roles)
  if (entries.length === 0) throw new ValidationError(`${where}: expected at least one role`)
  const known = new Set<string>([...PERMISSIONS, '*'])
  const out: Record<string, readonly (Permission | '*')[]> = {}
  for (const [name, codes] of entries) {
    if (!ROLE_NAME.test(name)) throw new ValidationError(`${where}: role name ${JSON.stringify(name)} must be lowercase letters, digits, "-" or "_", starting with a letter, at most 32 characters`)
    if (!Array.isArray(codes)) throw new ValidationError(`${where}.${name}: expected a list of permission codes, got ${describeValue(codes)}`)
    for (const code of codes) {
      if (typeof code !== 'string' || !known.has(code)) throw new ValidationError(`${where}.${name}: unknown permission ${describeValue(code)}; known: *, ${PERMISSIONS.join(', ')}`)
    }
    out[name] = Object.freeze([...(codes as (Permission | '*')[])])
  }
  return Object.freeze(out)
}
