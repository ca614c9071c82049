/**
 * The notice of runs nobody can execute: "no live worker serves task X on queue Q (last seen …)"
 * — on the overview (a live region, so it comes and goes as workers do) and the runs list for
 * every such task, and on a pending run's page with when `unservedAfterMs` fails it.
 */
import type { UnservedRun, UnservedTask } from '../../engine/engine.js'
import type { Run } from '../../store/types.js'
import type { PageContext } from './layout.js'
import { formatCount } from './shared/format.js'
import { Time } from './ui.js'

/** "last seen 5 min ago" (the time in its title) or "last seen: never". */
function LastSeen({ lastSeen, now }: { lastSeen: Date | null; now: number }) {
  return lastSeen === null ? <>last seen: never</> : <>last seen <Time date={lastSeen} now={now} /></>
}

/**
 * The tasks with pending runs no live worker serves, each with a link to its pending runs. `live`:
 * a live region (always there, empty when there are none), refreshed with the page's others.
 */
export function UnservedNotice({ unserved, page, live = false }: { unserved: readonly UnservedTask[]; page: PageContext; live?: boolean }) {
  return (
    <div data-live-region={live ? 'unserved' : undefined}>
      {unserved.length === 0 ? null : (
        <div class="notice notice-warn" role="status" id="unserved-notice">
          <ul class="plain">
            {unserved.map((u) => (
              <li data-unserved-task={u.task} data-unserved-queue={u.queue}>
                No live worker serves task <strong>{u.task}</strong> on queue <strong>{u.queue}</strong> (<LastSeen lastSeen={u.lastSeen} now={page.now} />):{' '}
                <a href={`${page.admin}/runs?${new URLSearchParams({ task: u.task, queue: u.queue, status: 'pending' }).toString()}`}>{formatCount(u.pending)} pending</a>.
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  )
}

/** On a pending run's page: nobody executes it, since when, and when it fails unless a worker comes. */
export function UnservedRunNotice({ run, unserved, page }: { run: Run; unserved: UnservedRun | undefined; page: PageContext }) {
  if (unserved === undefined) return null
  return (
    <div class="notice notice-warn" role="status" id="run-unserved">
      No live worker serves task <strong>{run.task}</strong> on queue <strong>{run.queue}</strong> (<LastSeen lastSeen={unserved.lastSeen} now={page.now} />): this run waits for
      one. {unserved.failsAt === null ? null : <>Unless one comes, it fails with <code>ERR_NO_WORKER</code> <Time date={unserved.failsAt} now={page.now} />.</>}
    </div>
  )
}

/** The unserved tasks a runs list filtered by `task`, `queue` and `status` shows: none when it lists no pending runs. */
export function unservedShown(unserved: readonly UnservedTask[], filter: { readonly task?: string | undefined; readonly queue?: string | undefined; readonly status?: string | undefined }): UnservedTask[] {
  if (filter.status !== undefined && filter.status !== '' && filter.status !== 'pending') return []
  return unserved.filter((u) => (filter.task === undefined || filter.task === '' || u.task === filter.task) && (filter.queue === undefined || filter.queue === '' || u.queue === filter.queue))
}
