/**
 * A bulk job (`/admin/runs/bulk/:id`): its action and filter, progress (done and skipped out of
 * the total), state, and a button to stop it. The script keeps it current while it runs
 * (`client/bulk-job.ts`: following the job on the live stream, or reading this page's
 * `?format=json` while the stream is down).
 */
import type { BulkJob } from '../../../store/types.js'
import { mayRead, readScope } from '../../caller.js'
import { notFound } from '../../http-errors.js'
import { Layout, type PageContext } from '../layout.js'
import type { AdminPage } from '../page.js'
import { bulkStateClass } from '../shared/bulk-state.js'
import { formatCount, plural } from '../shared/format.js'
import { Csrf, Icon, Time } from '../ui.js'

export const bulkJobPage: AdminPage<BulkJob> = {
  async load(c, { engine }) {
    const scope = readScope(c)
    const id = c.req.param('id') ?? ''
    const job = await engine.bulk.get(id)
    if (job === undefined || !mayRead(scope, job)) throw notFound(`unknown bulk job "${id}"`)
    return job
  },
  data: (job) => ({ value: job, name: `bulk-${job.id}` }),
  view: ({ page, data }) => <BulkJobPage page={page} job={data} />,
}

/** The filter as URL parameters of the runs list (the stored filter's keys are the store's). */
function listQuery(job: BulkJob): string {
  const q = new URLSearchParams()
  for (const [key, value] of Object.entries(job.filter)) {
    const name = key === 'poolId' ? 'pool' : key
    if (Array.isArray(value)) q.set(name, value.join(','))
    else if (typeof value === 'string') q.set(name, value)
  }
  return q.toString()
}

export function BulkJobPage({ page, job }: { page: PageContext; job: BulkJob }) {
  const handled = job.done + job.skipped
  const query = listQuery(job)
  const verb = job.action[0]!.toUpperCase() + job.action.slice(1)
  return (
    <Layout page={page} title={`${verb} ${plural(job.total, 'run')}`} nav="runs">
      <div class="page-head">
        <div>
          <h1>
            {verb} {plural(job.total, 'run')}
          </h1>
          <p class="sub">
            bulk job <span class="mono">{job.id}</span>
            {job.createdBy === null ? '' : ` by ${job.createdBy}`}, <Time date={job.createdAt} now={page.now} />
          </p>
        </div>
        <div class="actions">
          <a class="button" href={`${page.admin}/runs${query === '' ? '' : `?${query}`}`}>
            Matching runs
          </a>
        </div>
      </div>
      <section class="panel bulk-job" id="bulk-job" data-job={job.id} data-state={job.state} data-src={`${page.admin}/runs/bulk/${job.id}?format=json`}>
        <p>
          <span class={bulkStateClass(job.state)} data-part="state">
            {job.state}
          </span>{' '}
          Filter:{' '}
          {Object.keys(job.filter).length === 0 ? (
            <strong>every run</strong>
          ) : (
            Object.entries(job.filter).map(([k, v]) => (
              <span class="tag mono">
                {k}={Array.isArray(v) ? v.join(',') : String(v)}
              </span>
            ))
          )}
        </p>
        <progress id="bulk-progress" class={`bar-${job.state === 'running' ? 'running' : 'done'}`} max={String(Math.max(1, job.total))} value={String(Math.min(handled, Math.max(1, job.total)))} />
        <p class="bulk-counts" aria-live="polite">
          <strong data-part="done">{formatCount(job.done)}</strong> done, <strong data-part="skipped">{formatCount(job.skipped)}</strong> skipped (no longer in a state that allows it, or no longer matching) of{' '}
          <strong data-part="total">{formatCount(job.total)}</strong>
          <span data-part="error" class="error-text">
            {job.error === null ? '' : ` — failed: ${job.error}`}
          </span>
        </p>
        {job.state === 'running' ? (
          <form method="post" action={`${page.admin}/runs/bulk/${job.id}/cancel`} id="bulk-cancel">
            <Csrf token={page.csrf} />
            <button type="submit" class="small danger">
              <Icon name="stop" /> Stop this job
            </button>
            <span class="muted small"> Runs already handled stay as they are.</span>
          </form>
        ) : null}
      </section>
    </Layout>
  )
}
