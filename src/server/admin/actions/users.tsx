/**
 * What the Users page does: add a user, set a role or password, disable or enable, end
 * sessions (`users:write`), and create or revoke API tokens (`users:write`, or a user for
 * their own). A refused change (bad name, unknown role, weak password, taken token name) comes
 * back as the page with the reason, and nothing changes. A created token is shown on the page
 * answering the post, once.
 */
import type { Context, Handler } from 'hono'
import { ConflictError, NotFoundError, ValidationError } from '../../../errors.js'
import { can } from '../../auth.js'
import { actorOf, identity, requirePermission, type ServerEnv } from '../../caller.js'
import { HttpError } from '../../http-errors.js'
import { checkCsrf } from '../csrf.js'
import { withNotice } from '../notices.js'
import { pageContext, render, type AdminDeps } from '../page.js'
import { UsersPage, usersPage } from '../pages/users.js'

type Action = 'add' | 'role' | 'password' | 'disable' | 'enable' | 'endSessions' | 'createToken' | 'revokeToken'

export function userActions(deps: AdminDeps): Record<Action, Handler<ServerEnv>> {
  const { engine } = deps
  const users = `${deps.base}/admin/users`

  /** The page's data: every user with `users:read`; a user managing their own tokens without it sees only the answer. */
  const pageData = async (c: Context<ServerEnv>) => (can(identity(c), 'users:read') ? usersPage.load(c, deps) : { users: [], tokens: [], roles: engine.users.roles, canEdit: false })
  /** Runs a change; a refused one renders the page with its reason (400/404/409). */
  const change = async (c: Context<ServerEnv>, work: (body: Record<string, unknown>, by: ReturnType<typeof actorOf>) => Promise<string | Response>): Promise<Response> => {
    const body = await c.req.parseBody()
    checkCsrf(c, body)
    try {
      const outcome = await work(body, actorOf(c))
      return typeof outcome === 'string' ? c.redirect(outcome, 303) : outcome
    } catch (error) {
      if (!(error instanceof ValidationError || error instanceof ConflictError || error instanceof NotFoundError)) throw error
      const status = error instanceof ValidationError ? 400 : error instanceof NotFoundError ? 404 : 409
      return render(c, <UsersPage page={pageContext(c, deps)} data={await pageData(c)} error={error.message} />, status)
    }
  }
  /** The user in the path when the caller may manage its tokens: `users:write`, or that user. */
  const tokenOwner = (c: Context<ServerEnv>): string => {
    const name = c.req.param('name') ?? ''
    const who = identity(c)
    if (can(who, 'users:write') || ((who.kind === 'user' || who.kind === 'token') && who.id === name)) return name
    throw new HttpError('ERR_FORBIDDEN', `forbidden: "${who.id}" lacks the "users:write" permission`)
  }
  const field = (body: Record<string, unknown>, key: string): string => (typeof body[key] === 'string' ? (body[key]) : '')
  const name = (c: Context<ServerEnv>): string => c.req.param('name') ?? ''

  return {
    add: (c) => {
      requirePermission(c, 'users:write')
      return change(c, async (body, by) => {
        const user = field(body, 'name').trim()
        const password = field(body, 'password')
        await engine.users.add(user, { role: field(body, 'role'), password: password === '' ? undefined : password, by })
        return withNotice(users, 'user-added', { name: user })
      })
    },
    role: (c) => {
      requirePermission(c, 'users:write')
      return change(c, async (body, by) => (await engine.users.setRole(name(c), field(body, 'role'), by), withNotice(users, 'user-changed', { name: name(c) })))
    },
    password: (c) => {
      requirePermission(c, 'users:write')
      return change(c, async (body, by) => (await engine.users.setPassword(name(c), field(body, 'password'), by), withNotice(users, 'user-changed', { name: name(c) })))
    },
    disable: (c) => {
      requirePermission(c, 'users:write')
      return change(c, async (_, by) => (await engine.users.disable(name(c), by), withNotice(users, 'user-changed', { name: name(c) })))
    },
    enable: (c) => {
      requirePermission(c, 'users:write')
      return change(c, async (_, by) => (await engine.users.enable(name(c), by), withNotice(users, 'user-changed', { name: name(c) })))
    },
    endSessions: (c) => {
      requirePermission(c, 'users:write')
      return change(c, async (_, by) => withNotice(users, 'sessions-ended', { name: name(c), done: String(await engine.users.endSessions({ user: name(c) }, by)) }))
    },
    createToken: (c) => {
      const user = tokenOwner(c)
      return change(c, async (body, by) => {
        const created = await engine.users.createToken(user, { name: field(body, 'name').trim(), by })
        return render(c, <UsersPage page={pageContext(c, deps)} data={await pageData(c)} created={{ user, name: created.info.name, token: created.token }} />, 201)
      })
    },
    revokeToken: (c) => {
      const user = tokenOwner(c)
      return change(c, async (_, by) => {
        const token = await engine.users.revokeToken(user, c.req.param('token') ?? '', by)
        return withNotice(can(identity(c), 'users:read') ? users : `${deps.base}/admin`, 'token-revoked', { name: token.name })
      })
    },
  }
}
