/**
 * Without JavaScript, bulk actions on the runs list ask here before they act (the script asks
 * in the page instead).
 */
import type { Run } from '../../../store/types.js'
import { Layout, type PageContext } from '../layout.js'
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
