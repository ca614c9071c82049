/**
 * Errors of the admin UI as pages: a deleted or unknown run, a missing permission, a bad form
 * or link, an unknown `/admin/...` path, a server error — each inside the admin layout with its
 * status, a plain message (escaped, as everything) and links back to the overview and to the
 * list the page belongs to. A client that asks for data (`Accept: application/json` first, or
 * `?format=`) gets the API's JSON error instead; so do the stylesheet and script files.
 */
import { can, type Identity } from '../auth.js'
import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import type { FieldIssue } from '../../errors.js'
import type { ServerEnv } from '../caller.js'
import { HttpError, errorResponse, toHttpError } from '../http-errors.js'
import { csrfToken } from './csrf.js'
import { Layout, type NavKey, type PageContext } from './layout.js'
import { render, wantsData, type AdminDeps } from './page.js'
import { Icon } from './ui.js'

/** The section of the admin UI a path belongs to, with its list's path and name. */
interface Section {
  readonly nav: NavKey
  readonly path: string
  readonly name: string
}

/** First path segment under `/admin` → the section it belongs to. */
const SECTIONS: Readonly<Record<string, Section>> = {
  task: { nav: 'tasks', path: '/task', name: 'Tasks' },
  runs: { nav: 'runs', path: '/runs', name: 'Runs' },
  queues: { nav: 'queues', path: '/queues', name: 'Queues' },
  flow: { nav: 'queues', path: '/queues', name: 'Queues' },
  schedules: { nav: 'schedules', path: '/schedules', name: 'Schedules' },
  workers: { nav: 'workers', path: '/workers', name: 'Workers' },
  settings: { nav: 'settings', path: '/settings', name: 'Settings' },
}

/** What a status is called on the page. */
const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad request',
  401: 'Sign-in required',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  500: 'Something went wrong',
}

/** The section a path under the admin UI (`admin`) belongs to, if any. */
export function sectionOf(admin: string, path: string): Section | undefined {
  const rest = path.startsWith(admin) ? path.slice(admin.length) : path
  return SECTIONS[rest.split('/')[1] ?? '']
}

/** The admin routes' error handler: a page in the layout, or JSON for a client that asks for data. */
export function adminErrorHandler(deps: AdminDeps): ErrorHandler<ServerEnv> {
  const report = deps.report ?? ((error: Error) => console.error('[taskengine admin]', error))
  return (error, c) => {
    const admin = `${deps.base}/admin`
    const path = new URL(c.req.url).pathname
    if (wantsData(c) || path.startsWith(`${admin}/assets/`)) return errorResponse(c, error, report)
    const { status, body, internal } = toHttpError(error)
    if (internal !== undefined) report(internal)
    const page = errorPageContext(c, deps)
    return render(c, <ErrorPage page={page} status={status} message={body.error.message} code={body.error.code} fields={body.error.fields ?? []} section={sectionOf(admin, path)} />, status)
  }
}

/** Unknown `/admin/...` paths: a 404 page (or JSON), like any other error of the admin routes. */
export const adminNotFound: NotFoundHandler<ServerEnv> = (c) => {
  throw new HttpError('ERR_NOT_FOUND', `no page at ${new URL(c.req.url).pathname}`)
}

/**
 * What the layout needs, without failing: an error may come before the caller is known
 * (a bad request to a page that needs no sign-in).
 */
function errorPageContext(c: Context<ServerEnv>, deps: AdminDeps): PageContext {
  const who = c.get('identity') as Identity | undefined
  return { admin: `${deps.base}/admin`, base: deps.base, csrf: csrfToken(c, deps.base), user: who?.id ?? 'guest', may: (p) => who !== undefined && can(who, p), signedIn: false, now: Date.now(), notice: undefined }
}

/** An error inside the admin layout: status, message, bad fields, and the ways back. */
export function ErrorPage({ page, status, message, code, fields, section }: { page: PageContext; status: number; message: string; code: string; fields: readonly FieldIssue[]; section: Section | undefined }) {
  const title = TITLES[status] ?? `Error ${status}`
  return (
    <Layout page={page} title={`${status} ${title}`} nav={section?.nav ?? 'none'}>
      <section class="panel error-page" id="error-page" data-status={String(status)}>
        <h1>
          <span class="error-status">{status}</span> {title}
        </h1>
        <p class="error-message" data-part="message">
          {message}
        </p>
        {fields.length === 0 ? null : (
          <ul class="error-fields">
            {fields.map((field) => (
              <li>{field.message}</li>
            ))}
          </ul>
        )}
        <p class="faint mono small">{code}</p>
        <p class="actions">
          {section === undefined ? null : (
            <a class="button primary" href={`${page.admin}${section.path}`} data-back="list">
              <Icon name="list" /> {section.name}
            </a>
          )}
          <a class={section === undefined ? 'button primary' : 'button'} href={page.admin} data-back="overview">
            <Icon name="bolt" /> Overview
          </a>
        </p>
      </section>
    </Layout>
  )
}
