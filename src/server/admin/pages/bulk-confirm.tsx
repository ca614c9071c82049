/**
 * Confirmations of bulk actions: on the ticked runs (without JavaScript; the script asks in the
 * page instead), and on every run matching a filter (always here).
 */
import { BULK_BATCH } from '../../../engine/durable/bulk-jobs.js'
import type { BulkAction, Run } from '../../../store/types.js'
import { Layout, type PageContext } from '../layout.js'
import type { FilterParams } from '../run-filter.js'
import { plural } from '../shared/format.js'
import { Csrf, StatusPill } from '../ui.js'

export function BulkConfirmPage({ page, action, runs, returnTo }: { page: PageContext; action: string; runs: readonly Run[]; returnTo: string }) {
  return (
    <Layout page={page} title={`${action} ${runs.length} runs?`} nav="runs">
      <h1>
        {action[0]!.toUpperCase() + action.slice(1)} {runs.length} runs?
      </h1>
      <section class="panel">
        <form method="post" action={`${page.admin}/runs/bulk`}>
          <Csrf token={page.csrf} />
          <input type="hidden" name="action" value={action} />
          <input type="hidden" name="te:confirm" value="yes" />
          <input type="hidden" name="te:return" value={returnTo} />
          <ul>
            {runs.map((run) => (
              <li>
                <input type="hidden" name="id" value={run.id} />
                {run.task} <span class="mono faint">{run.id}</span> <StatusPill status={run.status} />
              </li>
            ))}
          </ul>
          <div class="actions">
            <button type="submit" class={action === 'delete' ? 'danger' : 'primary'}>
              Yes, {action}
            </button>
            <a class="button" href={returnTo}>
              Back
            </a>
          </div>
        </form>
      </section>
    </Layout>
  )
}

/**
 * Before a bulk action on every run matching a filter: the count, a sample, the filter, and a
 * confirmation (with an empty filter, ticking that every run is meant). Without and with the
 * script alike.
 */
export function BulkFilterConfirmPage({ page, action, count, sample, params }: { page: PageContext; action: BulkAction; count: number; sample: readonly Run[]; params: FilterParams }) {
  const query = new URLSearchParams(params).toString()
  const listUrl = `${page.admin}/runs${query === '' ? '' : `?${query}`}`
  const everything = Object.keys(params).length === 0
  const verb = action[0]!.toUpperCase() + action.slice(1)
  return (
    <Layout page={page} title={`${verb} all ${plural(count, 'matching run')}?`} nav="runs">
      <h1 id="bulk-title">
        {verb} all {plural(count, 'matching run')}?
      </h1>
      <section class="panel">
        <p>
          {everything ? (
            <strong>No filter: this is every run you may see.</strong>
          ) : (
            <span>
              Filter:{' '}
              {Object.entries(params).map(([k, v]) => (
                <span class="tag mono">
                  {k}={v}
                </span>
              ))}
            </span>
          )}{' '}
          {BULK_EFFECT[action]} Runs enqueued from now on are left alone; runs whose state no longer allows it are skipped and counted. It goes on in the server, {BULK_BATCH_TEXT}; you can follow and stop it.
        </p>
        {sample.length === 0 ? null : (
          <div class="table-wrap">
            <table class="bulk-sample">
              <caption class="muted small">The newest {sample.length} of them</caption>
              <tbody>
                {sample.map((run) => (
                  <tr>
                    <td>
                      <a href={`${page.admin}/runs/${run.id}`}>{run.task}</a> <span class="mono faint run-id">{run.id}</span>
                    </td>
                    <td>
                      <StatusPill status={run.status} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <form method="post" action={`${page.admin}/runs/bulk/start${query === '' ? '' : `?${query}`}`} id="bulk-confirm">
          <Csrf token={page.csrf} />
          <input type="hidden" name="action" value={action} />
          {everything ? (
            <p>
              <label>
                <input type="checkbox" name="te:every-run" value="yes" required /> Yes, {action} every run ({count})
              </label>
            </p>
          ) : null}
          <div class="actions">
            <button type="submit" class={action === 'delete' ? 'danger' : 'primary'} disabled={count === 0}>
              Yes, {action} {plural(count, 'run')}
            </button>
            <a class="button" href={listUrl}>
              Back
            </a>
          </div>
        </form>
      </section>
    </Layout>
  )
}

/** What each action does to a run, in a sentence. */
const BULK_EFFECT: Readonly<Record<BulkAction, string>> = {
  cancel: 'Pending runs are cancelled at once, running ones asked to stop (with the runs they started).',
  retry: 'Failed and cancelled runs go back to pending with a fresh attempt budget.',
  delete: 'Runs are deleted; pending ones never execute, running ones are cancelled first.',
}

const BULK_BATCH_TEXT = `${BULK_BATCH} runs at a time`
