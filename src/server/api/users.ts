/**
 * The built-in users over HTTP: who the caller is (`GET /me`), users (`users:read` to list,
 * `users:write` to add, change role or password, disable and enable, end sessions), and API
 * tokens — an admin manages anyone's, a user their own (create shows the token once; revoke
 * takes effect on the next request anywhere). Every change is audited by `engine.users`, with
 * the caller as the actor.
 */
import { Hono } from 'hono'
import { ValidationError, describeValue } from '../../errors.js'
import { actorOf, identity, requirePermission, type ServerContext, type ServerEnv } from '../caller.js'
import { can } from '../auth.js'
import { respond } from '../formats.js'
import { HttpError, notFound } from '../http-errors.js'
import { IssueList, jsonBody } from '../json-body.js'
import { checkQuery } from '../query.js'
import type { RouteDeps } from './deps.js'

const USER_COLUMNS = ['name', 'role', 'roleKnown', 'hasPassword', 'disabledAt', 'createdAt', 'updatedAt', 'createdBy'] as const
const TOKEN_COLUMNS = ['id', 'user', 'name', 'createdAt', 'expiresAt', 'lastUsedAt', 'revokedAt', 'createdBy'] as const
const DAY_MS = 24 * 3600_000

export function userRoutes({ engine }: RouteDeps): Hono<ServerEnv> {
  const routes = new Hono<ServerEnv>()

  routes.get('/me', (c) => {
    checkQuery(c)
    const who = identity(c)
    return respond(c, { id: who.id, kind: who.kind ?? 'host', tokenName: who.tokenName ?? null, permissions: who.permissions }, { name: 'me' })
  })

  routes.get('/users', async (c) => {
    checkQuery(c)
    requirePermission(c, 'users:read')
    return respond(c, await engine.users.list(), { name: 'users', columns: USER_COLUMNS })
  })

  routes.post('/users', async (c) => {
    checkQuery(c)
    requirePermission(c, 'users:write')
    const body = await jsonBody(c)
    const issues = new IssueList()
    issues.unknownKeys(body, ['name', 'role', 'password'], '', 'property')
    if (typeof body.name !== 'string') issues.bad('name', 'a user name', body.name)
    if (typeof body.role !== 'string') issues.bad('role', `a role (${Object.keys(engine.users.roles).join(', ')})`, body.role)
    if (body.password !== undefined && typeof body.password !== 'string') issues.bad('password', 'a string', '(not shown)')
    issues.throwIfAny('invalid user')
    const user = await engine.users.add(body.name as string, { role: body.role as string, password: body.password as string | undefined, by: actorOf(c) })
    return c.json(user, 201)
  })

  routes.get('/users/:name', async (c) => {
    checkQuery(c)
    const name = self(c, 'users:read')
    const user = await engine.users.get(name)
    if (user === undefined) throw notFound(`no user "${name}"`)
    return respond(c, user, { name: `user-${name}` })
  })

  // The body names what changes: role, disabled, password (any of them; nothing else).
  routes.patch('/users/:name', async (c) => {
    checkQuery(c)
    requirePermission(c, 'users:write')
    const name = c.req.param('name')
    const body = await jsonBody(c)
    const issues = new IssueList()
    issues.unknownKeys(body, ['role', 'disabled', 'password'], '', 'property')
    if (Object.keys(body).length === 0) issues.bad('body', 'at least one of role, disabled, password', body)
    if (body.role !== undefined && typeof body.role !== 'string') issues.bad('role', 'a role name', body.role)
    if (body.disabled !== undefined && typeof body.disabled !== 'boolean') issues.bad('disabled', 'true or false', body.disabled)
    if (body.password !== undefined && typeof body.password !== 'string') issues.bad('password', 'a string', '(not shown)')
    issues.throwIfAny('invalid change')
    if ((await engine.users.get(name)) === undefined) throw notFound(`no user "${name}"`)
    const by = actorOf(c)
    // Checked before anything changes: a bad role or weak password leaves the user as it was.
    if (typeof body.role === 'string' && !Object.hasOwn(engine.users.roles, body.role)) throw new ValidationError(`role: unknown role ${describeValue(body.role)}; known: ${Object.keys(engine.users.roles).join(', ')}`)
    if (typeof body.password === 'string') await engine.users.setPassword(name, body.password, by)
    if (typeof body.role === 'string') await engine.users.setRole(name, body.role, by)
    if (body.disabled === true) await engine.users.disable(name, by)
    if (body.disabled === false) await engine.users.enable(name, by)
    return c.json(await engine.users.get(name))
  })

  routes.delete('/users/:name/sessions', async (c) => {
    checkQuery(c)
    const name = self(c, 'users:write')
    if ((await engine.users.get(name)) === undefined) throw notFound(`no user "${name}"`)
    return c.json({ user: name, ended: await engine.users.endSessions({ user: name }, actorOf(c)) })
  })

  routes.get('/users/:name/tokens', async (c) => {
    checkQuery(c)
    const name = self(c, 'users:read')
    if ((await engine.users.get(name)) === undefined) throw notFound(`no user "${name}"`)
    return respond(c, await engine.users.tokens(name), { name: `tokens-${name}`, columns: TOKEN_COLUMNS })
  })

  routes.post('/users/:name/tokens', async (c) => {
    checkQuery(c)
    const name = self(c, 'users:write')
    const body = await jsonBody(c)
    const issues = new IssueList()
    issues.unknownKeys(body, ['name', 'expiresInDays'], '', 'property')
    if (typeof body.name !== 'string') issues.bad('name', 'a token name', body.name)
    const days = body.expiresInDays
    if (days !== undefined && (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 3650)) issues.bad('expiresInDays', 'a whole number of days from 1 to 3650', days)
    issues.throwIfAny('invalid token request')
    const created = await engine.users.createToken(name, { name: body.name as string, expiresInMs: days === undefined ? undefined : (days as number) * DAY_MS, by: actorOf(c) })
    return c.json(created, 201)
  })

  routes.delete('/users/:name/tokens/:token', async (c) => {
    checkQuery(c)
    const name = self(c, 'users:write')
    return c.json(await engine.users.revokeToken(name, c.req.param('token'), actorOf(c)))
  })

  return routes
}

/**
 * The user in the path, when the caller may act on it: with `permission`, or as that user
 * (a signed-in user or a user's token manages their own tokens and sessions).
 */
function self(c: ServerContext, permission: 'users:read' | 'users:write'): string {
  const name = c.req.param('name') ?? ''
  const who = identity(c)
  if (can(who, permission)) return name
  if ((who.kind === 'user' || who.kind === 'token') && who.id === name) return name
  throw new HttpError('ERR_FORBIDDEN', `forbidden: "${who.id}" lacks the "${permission}" permission`)
}
