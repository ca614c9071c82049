/**
 * Embeddable views, for an operator's own app to show in a frame: one run
 * (`/admin/embed/runs/:id`: status, progress, the live log tail, and the pool view when the run
 * opened pools) and the pool view of a run alone (`/admin/embed/runs/:id/pool`). Minimal chrome:
 * no navigation, no menus, no actions (a framed button could be clickjacked); links open in a new
 * tab. The same auth, permissions and CSP as every page; only these answers may be framed, and only
 * by the origins in `allowedFrameAncestors` (`../frame-ancestors.ts`); the client script keeps them
 * live as it does the run page (same element ids).
 */
import type { Child } from 'hono/jsx'
import type { Handler } from 'hono'
import type { Run } from '../../../store/types.js'
import { withFinalLine } from '../../../engine/execute/final-line.js'
import type { LogEntry } from '../../../task/context.js'
import { mayRead, readScope, type ServerEnv } from '../../caller.js'
import { respond } from '../../formats.js'
import { frameAncestorsDirective } from '../../frame-ancestors.js'
import { notFound } from '../../http-errors.js'
import { PageHead, type PageContext } from '../layout.js'
import { pageContext, render, wantsData, type AdminDeps } from '../page.js'
import type { PoolForest } from '../pool-tree.js'
import { CancelCard, RunClockLine, RunLog, deliberateEnd } from '../run-parts.js'
import { ErrorCard, ProgressBar, StatusPill } from '../ui.js'
import { PoolView, runPoolForest } from './pool-view.js'

/** Log lines an embedded run shows (its last ones); the script appends new ones live. */
export const EMBED_LOG_TAIL = 200

/** What an embedded run shows. */
interface EmbedData {
  readonly run: Run
  readonly logs: readonly LogEntry[]
  readonly forest: PoolForest
}

/**
 * The embed routes' answers, framable by `origins` only: `ADMIN_CSP` with its `frame-ancestors`
 * replaced (the admin routes keep a CSP a route set), and no `X-Frame-Options` (the server leaves
 * it off when the CSP allows a frame).
 */
export function embedRoutes(deps: AdminDeps, csp: string, origins: readonly string[]): { run: Handler<ServerEnv>; pool: Handler<ServerEnv> } {
  const policy = csp.replace(/frame-ancestors [^;]*/, frameAncestorsDirective(origins))
  const handler =
    (view: 'run' | 'pool'): Handler<ServerEnv> =>
    async (c) => {
      const scope = readScope(c)
      const run = await deps.engine.getRun(c.req.param('id') ?? '')
      if (run === undefined || !mayRead(scope, run)) throw notFound(`unknown run "${c.req.param('id')}"`)
      const [logs, forest] = await Promise.all([
        view === 'run' ? deps.engine.getLogs(run.id, { after: Math.max(0, run.logCount - EMBED_LOG_TAIL), limit: EMBED_LOG_TAIL }).then((lines) => withFinalLine(run, lines, 0, EMBED_LOG_TAIL + 1)) : [],
        runPoolForest(c, deps.engine, run),
      ])
      if (wantsData(c)) return respond(c, { run, logs, forest }, { name: `run-${run.id}`, rows: () => logs })
      c.header('content-security-policy', policy)
      const page = pageContext(c, deps)
      const theme = c.req.query('theme')
      return render(c, <EmbedRun page={page} data={{ run, logs, forest }} view={view} theme={theme === 'dark' || theme === 'light' ? theme : undefined} />)
    }
  return { run: handler('run'), pool: handler('pool') }
}

function EmbedRun({ page, data, view, theme }: { page: PageContext; data: EmbedData; view: 'run' | 'pool'; theme: 'dark' | 'light' | undefined }) {
  const { run, forest } = data
  const active = run.status === 'pending' || run.status === 'running' || run.status === 'waiting'
  return (
    <EmbedLayout page={page} title={`${run.task} · ${run.status}`} run={run} theme={theme}>
      <div class="embed-run" id="run-page" data-run-id={run.id} data-status={run.status} data-embed={view}>
        <h1 class="embed-title">
          {run.task} <span data-cell="status">{<StatusPill status={run.status} />}</span>
        </h1>
        <p class="sub">
          {run.label} · <span class="mono">{run.id.slice(-8)}</span>
        </p>
        {deliberateEnd(run) ? <CancelCard run={run} /> : run.error === null ? null : <ErrorCard error={run.error} />}
        {view === 'run' ? <ProgressBar progress={run.progress} id="run-progress" /> : null}
        {view === 'run' ? <RunClockLine run={run} now={page.now} /> : null}
        {view === 'run' ? <RunLog run={run} logs={data.logs} follow={active} /> : null}
        {forest.pools.length === 0 && view === 'pool' ? <p class="empty">This run opened no pool.</p> : <PoolView run={run} forest={forest} page={page} />}
      </div>
    </EmbedLayout>
  )
}

/** The page shell of an embed: the stylesheet and the script, the live state, a link to the full page. */
function EmbedLayout({ page, title, run, theme, children }: { page: PageContext; title: string; run: Run; theme: 'dark' | 'light' | undefined; children: Child }) {
  return (
    // `?theme=dark|light` matches the host app; else the viewer's choice or the system's.
    <html lang="en" data-theme={theme} data-theme-fixed={theme === undefined ? undefined : ''}>
      <PageHead page={page} title={title}>
        {/* Links leave the frame for a tab of their own. */}
        <base target="_blank" />
      </PageHead>
      <body class="embed">
        <main class="embed-main">
          {children}
          <p class="embed-foot faint small">
            <span class="live-state" id="live-state" data-state="off" title="Live updates">
              static
            </span>{' '}
            <a href={`${page.admin}/runs/${run.id}`} rel="noopener">
              Open in taskengine ↗
            </a>
          </p>
        </main>
      </body>
    </html>
  )
}
