/**
 * Two runs, or two attempts, side by side (`/admin/runs/diff?a=<run>[:<attempt>]&b=…`): the
 * summary with differing values marked, argument and result diffs, both errors with their
 * stacks, and the log diff. Reached from the runs list (two ticked rows, Compare) and from a run
 * page's attempts table. Its data (`?format=json`) is the answer of `GET /api/runs/diff`.
 */
import { readScope } from '../../caller.js'
import { compareRuns, comparisonJson, parseSides, type RunComparison } from '../../run-diff/compare.js'
import type { RunSide } from '../../run-diff/sides.js'
import { ErrorPair, JsonChanges, LogDiff, LogDiffLimits, SummaryTable } from '../diff-parts.js'
import { Layout, type PageContext } from '../layout.js'
import type { AdminPage } from '../page.js'
import { formatCount } from '../shared/format.js'
import { Icon } from '../ui.js'

export const runDiffPage: AdminPage<RunComparison> = {
  async load(c, { engine }) {
    const a = c.req.query('a')
    const b = c.req.query('b')
    const refs = parseSides(a, b)
    return compareRuns(engine, readScope(c), { a: a!, b: b! }, refs)
  },
  data: (comparison) => ({ value: comparisonJson(comparison), name: `diff-${comparison.a.run.id}-${comparison.b.run.id}` }),
  view: ({ page, data }) => <RunDiffPage page={page} comparison={data} />,
}

/** The link to the diff page of `a` and `b` (each `<run id>` or `<run id>:<attempt>`). */
export function diffHref(admin: string, a: string, b: string): string {
  return `${admin}/runs/diff?${new URLSearchParams({ a, b }).toString()}`
}

/** A side's heading: its task, which run (and attempt), and a link to the run. */
function SideTitle({ page, side, letter }: { page: PageContext; side: RunSide; letter: string }) {
  return (
    <div class="diff-side" data-side={letter.toLowerCase()}>
      <span class="diff-letter">{letter}</span>{' '}
      <a href={`${page.admin}/runs/${side.run.id}`}>{side.run.task}</a> <span class="mono faint small">{side.run.id}</span>
      {side.attempt === null ? <span class="muted"> · whole run</span> : <span class="badge">attempt {side.attempt}</span>}
    </div>
  )
}

export function RunDiffPage({ page, comparison }: { page: PageContext; comparison: RunComparison }) {
  const { a, b, logs } = comparison
  return (
    <Layout page={page} title={`Compare ${a.run.task} · ${b.run.task}`} nav="runs">
      <div class="page-head" id="run-diff">
        <div>
          <h1>Compare runs</h1>
          <div class="diff-sides">
            <SideTitle page={page} side={a} letter="A" />
            <SideTitle page={page} side={b} letter="B" />
          </div>
        </div>
        <div class="actions">
          <a class="button" id="diff-swap" href={diffHref(page.admin, b.ref, a.ref)} title="Swap A and B">
            <Icon name="columns" /> Swap A ↔ B
          </a>
        </div>
      </div>
      <section class="panel">
        <h2>Summary</h2>
        <SummaryTable fields={comparison.fields} />
      </section>
      <div class="grid grid-2">
        <section class="panel">
          <h2>Arguments</h2>
          <JsonChanges diff={comparison.args} id="diff-args" same="The same arguments." />
        </section>
        <section class="panel">
          <h2>Result</h2>
          <p class="faint small">The runs' final results (an attempt has none of its own).</p>
          <JsonChanges diff={comparison.result} id="diff-result" same="The same result." />
        </section>
      </div>
      <section class="panel">
        <h2>Error</h2>
        <ErrorPair a={a} b={b} same={comparison.sameError} />
      </section>
      <section class="panel">
        <h2>Log</h2>
        <LogDiffLimits diff={logs} a={a} b={b} />
        <div class="terminal-bar">
          <span id="log-diff-stats">
            <span class="diff-added-count">+{formatCount(logs.added)}</span> <span class="diff-removed-count">−{formatCount(logs.removed)}</span> · {formatCount(logs.unchanged)} unchanged
          </span>
          <span class="faint">level and message compared</span>
        </div>
        <LogDiff diff={logs} a={a} b={b} />
      </section>
    </Layout>
  )
}
