/**
 * CSRF tokens of the admin forms (double submit): an HttpOnly cookie, repeated in every form
 * that changes state, and compared on the POST. (The `Origin` of every write, forms included,
 * was checked before: see `guardHosts`.)
 */
import type { Context } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { randomUUID } from 'node:crypto'
import { HttpError } from '../http-errors.js'
import { OWN } from './form.js'

const CSRF_COOKIE = 'te_csrf'

/** The session's CSRF token, set as a cookie on the first page; `base` is the server's base path. */
export function csrfToken(c: Context, base: string): string {
  const existing = getCookie(c, CSRF_COOKIE)
  if (existing !== undefined && /^[0-9a-f-]{36}$/.test(existing)) return existing
  const token = randomUUID()
  setCookie(c, CSRF_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: base === '' ? '/' : base, secure: new URL(c.req.url).protocol === 'https:' })
  return token
}

/** Refuses a state change whose form token does not match the cookie (403). */
export function checkCsrf(c: Context, body: Readonly<Record<string, unknown>>): void {
  const cookie = getCookie(c, CSRF_COOKIE)
  const raw = body[OWN.csrf]
  const sent = Array.isArray(raw) ? (raw[0] as unknown) : raw
  if (cookie === undefined || typeof sent !== 'string' || sent !== cookie) throw new HttpError('ERR_FORBIDDEN', 'missing or stale form token: reload the page and try again')
}
