/**
 * Signing in and out. With the built-in users, a user name and password start a session (an
 * HttpOnly, SameSite=Strict cookie holding the session's id and secret; the store keeps a
 * digest) after the throttle allows it; an access token (the server's, or a user's `te_…` API
 * token) checked by the server's resolver becomes an HttpOnly cookie as it is. Either way the
 * browser goes where it was headed (a path of the admin UI only). Signing out ends the session
 * in the store, so the cookie stops working even where a copy of it survives.
 */
import type { Context, Handler } from 'hono'
import { deleteCookie, setCookie } from 'hono/cookie'
import { SESSION_COOKIE, cookieOf, hasToken } from '../../auth.js'
import { addressOf, type ServerEnv } from '../../caller.js'
import { checkCsrf } from '../csrf.js'
import { safeNext } from '../notices.js'
import { render, type AdminDeps } from '../page.js'
import { LoginPage, type LoginFailure } from '../pages/login.js'

export function signInActions(deps: AdminDeps & { readonly token?: string | undefined }): Record<'page' | 'signIn' | 'signOut', Handler<ServerEnv>> {
  const admin = `${deps.base}/admin`
  const cookiePath = deps.base === '' ? '/' : deps.base
  const tokenSet = hasToken(deps.token)

  const page = async (c: Context<ServerEnv>, next: string, failure: LoginFailure, status: 200 | 401 | 429 = 200): Promise<Response> => {
    const users = (await deps.engine.users.enabledCount()) > 0
    return render(c, <LoginPage admin={admin} next={next} failure={failure} users={users} token={tokenSet || users} />, status)
  }
  const cookieOptions = (c: Context<ServerEnv>) => ({ httpOnly: true, sameSite: 'Strict' as const, path: cookiePath, secure: new URL(c.req.url).protocol === 'https:' })

  return {
    page: (c) => page(c, safeNext(c.req.query('next'), admin), undefined),

    async signIn(c) {
      const body = await c.req.parseBody()
      const next = safeNext(typeof body.next === 'string' ? body.next : undefined, admin)
      if (typeof body.user === 'string' || typeof body.password === 'string') {
        const user = typeof body.user === 'string' ? body.user.trim() : ''
        const password = typeof body.password === 'string' ? body.password : ''
        const outcome = await deps.engine.users.signIn(user, password, { address: addressOf(c), userAgent: c.req.header('user-agent') ?? null, via: 'admin' })
        if (!outcome.ok) {
          if (outcome.reason === 'throttled') c.header('retry-after', String(Math.ceil(outcome.retryAfterMs / 1000)))
          return page(c, next, outcome.reason, outcome.reason === 'throttled' ? 429 : 401)
        }
        setCookie(c, SESSION_COOKIE, outcome.cookie, { ...cookieOptions(c), expires: outcome.expiresAt })
        deleteCookie(c, 'taskengine_token', { path: cookiePath })
        return c.redirect(next, 303)
      }
      const token = typeof body.token === 'string' ? body.token : ''
      const probe = new Request(c.req.url, { headers: { authorization: `Bearer ${token}` } })
      if (token === '' || (await deps.auth(probe)) === null) return page(c, next, 'token', 401)
      setCookie(c, 'taskengine_token', token, cookieOptions(c))
      return c.redirect(next, 303)
    },

    async signOut(c) {
      checkCsrf(c, await c.req.parseBody())
      const session = cookieOf(c.req.raw, SESSION_COOKIE)
      if (session !== undefined) await deps.engine.users.signOut(session, { address: addressOf(c), userAgent: c.req.header('user-agent') ?? null, via: 'admin' })
      deleteCookie(c, SESSION_COOKIE, { path: cookiePath })
      deleteCookie(c, 'taskengine_token', { path: cookiePath })
      return c.redirect(`${admin}/login`, 303)
    },
  }
}
