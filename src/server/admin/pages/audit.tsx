/**
 * Audit (`/admin/audit`, `audit:read`): who did what, newest first — when, who (and with which
 * token), through what and from where, the action, its target (linked to the run, schedule,
 * bulk job or user it names) and what changed. Filters by actor, action (or a group such as
 * `run.`), target and time; older entries a page at a time. The same data as `GET /api/audit`.
 */
import type { AuditEntry, AuditFilter, AuditPage as AuditPageData } from '../../../store/types.js'
import { AUDIT_COLUMNS, auditRow } from '../../api/audit.js'
import { requirePermission } from '../../caller.js'
import { Layout, type PageContext } from '../layout.js'
import type { AdminPage } from '../page.js'
import { Time } from '../ui.js'

/** Action groups offered in the filter (any action or prefix may be typed in the URL). */
const ACTION_GROUPS: readonly [string, string][] = [
  ['run.', 'runs: start, enqueue, cancel, retry, delete'],
  ['bulk.', 'bulk actions'],
  ['schedule.', 'schedules'],
  ['settings.', 'settings'],
  ['queue.', 'queue limits, pause, resume'],
  ['task.', 'task limits, pause, removal'],
  ['worker.', 'workers: quiet, resume, stop'],
  ['user.', 'users'],
  ['token.', 'API tokens'],
  ['session.', 'sessions ended'],
  ['login', 'sign-ins (and failed ones)'],
]

/** The filter as typed, and what was wrong with it. */
interface AuditQuery {
  readonly params: Readonly<Record<string, string>>
  readonly filter: AuditFilter
  readonly problems: readonly string[]
}

export interface AuditData {
  readonly query: AuditQuery
  readonly page: AuditPageData
}

const PAGE_SIZE = 50

export const auditPage: AdminPage<AuditData> = {
  async load(c, { engine }) {
    requirePermission(c, 'audit:read')
    const query = readQuery(new URL(c.req.url).searchParams)
    const page = query.problems.length > 0 ? { entries: [], next: null } : await engine.audit.list(query.filter)
    return { query, page }
  },
  data: ({ page }) => ({ value: page, name: 'audit', rows: () => page.entries.map(auditRow), columns: AUDIT_COLUMNS }),
  view: ({ page, data }) => <AuditView page={page} data={data} />,
}

function readQuery(search: URLSearchParams): AuditQuery {
  const params: Record<string, string> = {}
  for (const key of ['actor', 'action', 'target', 'from', 'to', 'before']) {
    const value = search.get(key)?.trim()
    if (value !== undefined && value !== '') params[key] = value
  }
  const problems: string[] = []
  const time = (key: 'from' | 'to'): Date | undefined => {
    const text = params[key]
    if (text === undefined) return undefined
    const date = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text}Z`)
    if (Number.isNaN(date.getTime())) problems.push(`${key}: expected a date and time such as 2026-12-06T09:30, got "${text}"`)
    return date
  }
  const from = time('from')
  const to = time('to')
  const filter: AuditFilter = {
    limit: PAGE_SIZE,
    ...(params.actor === undefined ? {} : { actor: params.actor }),
    ...(params.action === undefined ? {} : { action: params.action }),
    ...(params.target === undefined ? {} : { target: params.target }),
    ...(params.before === undefined ? {} : { before: params.before }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  }
  return { params, filter, problems }
}

export function AuditView({ page, data }: { page: PageContext; data: AuditData }) {
  const { params, problems } = data.query
  const { entries, next } = data.page
  const url = (changes: Record<string, string | undefined>): string => {
    const search = new URLSearchParams()
    for (const [k, v] of Object.entries({ ...params, ...changes })) if (v !== undefined && v !== '') search.set(k, v)
    const text = search.toString()
    return `${page.admin}/audit${text === '' ? '' : `?${text}`}`
  }
  return (
    <Layout page={page} title="Audit" nav="audit">
      <div class="page-head">
        <div>
          <h1>Audit</h1>
          <p class="sub">Who did what, newest first: every start, cancel, retry and delete, bulk action, schedule, settings and limits change, worker command, user and token change, and sign-in.</p>
        </div>
        <div class="actions">
          <a class="button small" href={url({ format: 'csv', before: undefined })} download>
            Export CSV
          </a>
        </div>
      </div>
      {problems.length > 0 ? (
        <div class="notice notice-bad" role="alert">
          <strong>This filter cannot be applied</strong>, so no entry is listed:
          <ul>
            {problems.map((p) => (
              <li>{p}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <form method="get" class="filters panel" role="search">
        <div class="field">
          <label for="a-actor">Who</label>
          <input type="text" id="a-actor" name="actor" value={params.actor ?? ''} placeholder="user, token, api, cli" />
        </div>
        <div class="field">
          <label for="a-action">Action</label>
          <input type="text" id="a-action" name="action" value={params.action ?? ''} list="a-actions" placeholder="run.cancel or run." />
          <datalist id="a-actions">
            {ACTION_GROUPS.map(([value, label]) => (
              <option value={value}>{label}</option>
            ))}
          </datalist>
        </div>
        <div class="field grow">
          <label for="a-target">Target</label>
          <input type="text" id="a-target" name="target" value={params.target ?? ''} placeholder="run id, schedule, user, queue" />
        </div>
        <div class="field time">
          <label for="a-from">From (UTC)</label>
          <input type="datetime-local" id="a-from" name="from" value={params.from ?? ''} />
        </div>
        <div class="field time">
          <label for="a-to">To (UTC)</label>
          <input type="datetime-local" id="a-to" name="to" value={params.to ?? ''} />
        </div>
        <div class="field buttons">
          <button type="submit" class="primary">
            Filter
          </button>
          <a class="button" href={`${page.admin}/audit`}>
            Clear
          </a>
        </div>
      </form>
      <section class="panel">
        {entries.length === 0 ? (
          <p class="empty">{params.before === undefined ? 'Nothing recorded matches.' : 'No older entries.'}</p>
        ) : (
          <div class="table-wrap">
            <table class="wide" id="audit-entries">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Who</th>
                  <th>Action</th>
                  <th>Target</th>
                  <th>Change</th>
                  <th>From</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr data-audit={e.id} data-action={e.action}>
                    <td class="nowrap">
                      <Time date={e.at} now={page.now} />
                    </td>
                    <td>
                      <a href={url({ actor: e.actor, before: undefined })}>{e.actor}</a>
                      {e.tokenName === null ? null : <span class="faint"> · token {e.tokenName}</span>}
                      <div class="faint small">
                        {kindLabel(e)} · {e.via}
                      </div>
                    </td>
                    <td>
                      <span class={`audit-action${e.action.endsWith('.failed') || e.action.endsWith('.throttled') ? ' audit-bad' : ''}`}>{e.action}</span>
                    </td>
                    <td class="mono">
                      <Target page={page} entry={e} />
                    </td>
                    <td class="audit-change">
                      <Change entry={e} />
                    </td>
                    <td class="faint small" title={e.userAgent ?? undefined}>
                      {e.address ?? '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {next === null ? null : (
          <p class="pager">
            <a href={url({ before: next })} rel="next" data-key="]">
              Older →
            </a>
          </p>
        )}
      </section>
    </Layout>
  )
}

function kindLabel(e: AuditEntry): string {
  switch (e.actorKind) {
    case 'user':
      return 'signed in'
    case 'token':
      return 'API token'
    case 'shared-token':
      return 'server token'
    case 'anonymous':
      return e.action.startsWith('login') ? 'not signed in' : 'loopback, no sign-in'
    case 'cli':
      return 'command line'
    default:
      return 'host auth'
  }
}

/** The target, linked to its page when it names one. */
function Target({ page, entry }: { page: PageContext; entry: AuditEntry }) {
  const t = entry.target
  if (t === null) return <span class="faint">—</span>
  const [noun] = entry.action.split('.')
  const href =
    noun === 'run' ? `${page.admin}/runs/${encodeURIComponent(t)}` : noun === 'bulk' ? `${page.admin}/runs/bulk/${encodeURIComponent(t)}` : noun === 'schedule' ? `${page.admin}/schedules/${encodeURIComponent(t)}` : noun === 'task' ? `${page.admin}/task/${encodeURIComponent(t)}` : noun === 'user' && page.may('users:read') ? `${page.admin}/users#user-${encodeURIComponent(t)}` : undefined
  return href === undefined ? <span>{t}</span> : <a href={href}>{t}</a>
}

/** Before → after, compactly; other details below. */
function Change({ entry }: { entry: AuditEntry }) {
  const parts: string[] = []
  if (entry.before !== null || entry.after !== null) parts.push(`${compact(entry.before)} → ${compact(entry.after)}`)
  const details = entry.details === null ? '' : compact(entry.details)
  return (
    <>
      {parts.length > 0 ? <div class="mono">{parts[0]}</div> : null}
      {details === '' ? null : (
        <div class="faint small mono" title={details.length > 160 ? details : undefined}>
          {details.length > 160 ? `${details.slice(0, 160)}…` : details}
        </div>
      )}
    </>
  )
}

function compact(value: unknown): string {
  if (value === null || value === undefined) return '—'
  const text = JSON.stringify(value)
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}
