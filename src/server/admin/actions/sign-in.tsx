/**
 * Signing in: the sign-in page asks for the server's token; a valid one becomes an HttpOnly
 * cookie and the browser goes where it was headed (a path of the admin UI only).
 */
import type { Handler } from 'hono'
import { setCookie } from 'hono/cookie'
import type { ServerEnv } from '../../caller.js'
import { safeNext } from '../notices.js'
import { render, type AdminDeps } from '../page.js'
import { LoginPage } from '../pages/login.js'

export function signInActions(deps: AdminDeps): Record<'page' | 'signIn', Handler<ServerEnv>> {
  const admin = `${deps.base}/admin`
  return {
    page: (c) => render(c, <LoginPage admin={admin} next={safeNext(c.req.query('next'), admin)} failed={false} />),

    async signIn(c) {
      const body = await c.req.parseBody()
      const token = typeof body.token === 'string' ? body.token : ''
      const next = safeNext(typeof body.next === 'string' ? body.next : undefined, admin)
      const probe = new Request(c.req.url, { headers: { authorization: `Bearer ${token}` } })
      if ((await deps.auth(probe)) === null) return render(c, <LoginPage admin={admin} next={next} failed />, 401)
      setCookie(c, 'taskengine_token', token, { httpOnly: true, sameSite: 'Strict', path: deps.base === '' ? '/' : deps.base, secure: new URL(c.req.url).protocol === 'https:' })
      return c.redirect(next, 303)
    },
  }
}
