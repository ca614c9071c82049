/**
 * What every admin page shares. A page is a loader (its data, read with the caller's
 * permissions) plus a view (JSX); the same data answers `?format=json|csv|xml|yaml|toml|debug` (or `?t=`, or an
 * `Accept` header asking for one of them), so what a page shows can always be had as data.
 */
import type { Context, Handler } from 'hono'
import { html } from 'hono/html'
import type { JSX } from 'hono/jsx/jsx-runtime'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Engine } from '../../engine/engine.js'
import { SESSION_COOKIE, can, cookieOf, type AuthResolver } from '../auth.js'
import { identity, type ServerEnv } from '../caller.js'
import { askedFormat, respond, type RespondOptions } from '../formats.js'
import { csrfToken } from './csrf.js'
import type { PageContext } from './layout.js'
import { noticeOf } from './notices.js'

/** What the admin routes need from `createServer`. */
export interface AdminDeps {
  readonly engine: Engine
  /** The server's base path. */
  readonly base: string
  readonly auth: AuthResolver
  readonly syncRunTimeoutMs: number
  /**
   * Receives the server's own errors (500s of admin pages).
   * @default print to stderr
   */
  readonly report?: (error: Error) => void
  /** The shared token, when set (the sign-in page offers a token field). */
  readonly token?: string | undefined
  /** Origins whose pages may frame the embeddable views (`allowedFrameAncestors`, checked). */
  readonly frameAncestors?: readonly string[]
}

export type AdminContext = Context<ServerEnv>

/** A page's data as `?format=` answers it: the value, and how to name and flatten it. */
export type PageData = { readonly value: unknown } & RespondOptions

/**
 * One admin page: `load` reads its data (403 or 404 as the API would answer), `data` says what
 * of it a `?format=` request gets, `view` draws it.
 *
 * @example
 * export const workersPage: AdminPage<readonly WorkerInfo[]> = {
 *   load: (c, { engine }) => (requirePermission(c, 'workers:read'), engine.workers()),
 *   data: (workers) => ({ value: workers, name: 'workers' }),
 *   view: ({ page, data }) => <WorkersPage page={page} workers={data} />,
 * }
 */
export interface AdminPage<D> {
  readonly load: (c: AdminContext, deps: AdminDeps) => D | Promise<D>
  readonly data: (data: D) => PageData
  readonly view: (props: { readonly page: PageContext; readonly data: D }) => JSX.Element
}

/** The route of a page: its data when asked for data, else the page. */
export function showPage<D>(page: AdminPage<D>, deps: AdminDeps): Handler<ServerEnv> {
  return async (c) => {
    const data = await page.load(c, deps)
    if (wantsData(c)) {
      const { value, ...options } = page.data(data)
      return respond(c, value, options)
    }
    return render(c, page.view({ page: pageContext(c, deps), data }))
  }
}

/** Answers with a page: the doctype, then the document (standards mode). */
export function render(c: AdminContext, view: JSX.Element, status: ContentfulStatusCode = 200): Response | Promise<Response> {
  return c.html(html`<!DOCTYPE html>${view}`, status)
}

/** Whether the client asked for data rather than a page. */
export function wantsData(c: AdminContext): boolean {
  if (askedFormat(c) !== undefined) return true
  const first = (c.req.header('accept') ?? '').split(',')[0]?.split(';')[0]?.trim().toLowerCase() ?? ''
  return /^(application\/json|text\/csv|(application|text)\/(xml|(x-)?yaml)|application\/toml|text\/plain)$/.test(first)
}

/** What every page knows about its request. */
export function pageContext(c: AdminContext, deps: AdminDeps): PageContext {
  const who = identity(c)
  const signedIn = cookieOf(c.req.raw, SESSION_COOKIE) !== undefined || cookieOf(c.req.raw, 'taskengine_token') !== undefined
  return { admin: `${deps.base}/admin`, base: deps.base, csrf: csrfToken(c, deps.base), user: who.id, may: (permission) => can(who, permission), signedIn, now: Date.now(), notice: noticeOf(c) }
}

/** A positive integer from the query (page numbers), else `fallback`: pages never fail on a bad one. */
export function positive(text: string | undefined, fallback: number): number {
  const n = Number(text)
  return text !== undefined && Number.isSafeInteger(n) && n >= 1 ? n : fallback
}
