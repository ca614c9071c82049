/**
 * The Gantt timeline of a pool tree, server-rendered SVG (no chart library): a row per pool
 * (its span, its counts) and per run under it, indented by level; each run a bar from start to
 * end coloured by its status (the stylesheet's status colours, so both themes hold), after a
 * thinner segment for the time it waited from creation to its start. Times run along a top axis
 * from the tree's first creation. Bounded as the tree is (`pool-tree.tsx`): the rows not drawn are
 * counted in a last row of each pool that links to its runs list. Every string is text or an
 * attribute, escaped by hono/jsx.
 */
import type { Run } from '../../store/types.js'
import type { PageContext } from './layout.js'
import { countsText, forestPools, poolName, type PoolForest, type PoolNode } from './pool-tree.js'
import { argsSummary } from './runs-table.js'
import { formatCount, formatDuration } from './shared/format.js'

/** The drawing's coordinates (the SVG scales to its box; the box keeps a readable minimum width). */
const WIDTH = 960
const LABEL_WIDTH = 270
const RIGHT_PAD = 14
const ROW = 22
const AXIS = 26
const BAR = 12
const WAIT_BAR = 4
const INDENT = 12
/** Average width of a label character at the chart's 12 px, to cut labels before they reach the bars. */
const CHAR_WIDTH = 6.6

/** A coordinate as an attribute, to a tenth. */
const num = (v: number): string => String(Math.round(v * 10) / 10)

/** One row of the chart. */
type Row =
  | { readonly kind: 'pool'; readonly node: PoolNode; readonly depth: number }
  | { readonly kind: 'run'; readonly run: Run; readonly depth: number }
  | { readonly kind: 'more'; readonly node: PoolNode; readonly depth: number }

/** Tick steps, smallest first: the first giving at most 8 ticks over the span is used. */
const STEPS = [100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000]

/** An offset from the start on the axis: `500 ms`, `15 s`, `2 min`, `3 h`. */
function tickLabel(ms: number, step: number): string {
  if (step < 1_000) return ms < 1_000 ? `${ms} ms` : `${ms / 1_000} s`
  if (step < 60_000) return `${ms / 1_000} s`
  if (step < 3_600_000) return `${ms / 60_000} min`
  return `${ms / 3_600_000} h`
}

function rowsOf(forest: PoolForest): Row[] {
  const rows: Row[] = []
  const walk = (node: PoolNode): void => {
    rows.push({ kind: 'pool', node, depth: node.depth })
    for (const { run, pools } of node.runs) {
      rows.push({ kind: 'run', run, depth: node.depth + 1 })
      for (const child of pools) walk(child)
    }
    if (node.more > 0) rows.push({ kind: 'more', node, depth: node.depth + 1 })
  }
  for (const node of forest.pools) walk(node)
  return rows
}

/** Where a run's wait and its run end, in epoch ms (`now` for what has not ended). */
function spans(run: Run, now: number): { created: number; started: number | null; end: number } {
  const created = run.createdAt.getTime()
  const started = run.startedAt?.getTime() ?? null
  const end = run.finishedAt?.getTime() ?? now
  return { created, started, end: Math.max(end, started ?? created) }
}

/** A line of text no wider than `width` at the chart's size. */
function fit(text: string, width: number): string {
  const max = Math.max(4, Math.floor(width / CHAR_WIDTH))
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** A run's tooltip: task and arguments, status, how long it waited and ran. */
export function runTitle(run: Run, now: number): string {
  const { created, started, end } = spans(run, now)
  const args = argsSummary(run.args, 80)
  const parts = [`${run.task}${args === '' ? '' : ` ${args}`}: ${run.status}`]
  if (started === null) parts.push(run.finishedAt === null ? `waiting ${formatDuration(now - created)} so far` : `ended after waiting ${formatDuration(end - created)}, never started`)
  else {
    parts.push(`waited ${formatDuration(Math.max(0, started - created))}`)
    parts.push(run.finishedAt === null ? `running ${formatDuration(now - started)} so far` : `ran ${formatDuration(end - started)}`)
  }
  if (run.attempt > 1) parts.push(`attempt ${run.attempt}`)
  return parts.join(' · ')
}

/** The chart, in a box that scrolls sideways on narrow screens; nothing when the forest has no pool. */
export function PoolGantt({ forest, page }: { forest: PoolForest; page: PageContext }) {
  if (forest.pools.length === 0) return null
  const now = forest.now
  const rows = rowsOf(forest)
  const runs = rows.flatMap((row) => (row.kind === 'run' ? [row.run] : []))
  const pools = forestPools(forest)
  const starts = [...runs.map((run) => run.createdAt.getTime()), ...pools.map((node) => node.pool.createdAt.getTime())]
  const ends = runs.map((run) => spans(run, now).end)
  const t0 = Math.min(...starts)
  const active = runs.some((run) => run.finishedAt === null) || pools.some((node) => node.counts.pending + node.counts.running + node.counts.waiting > 0)
  const t1 = Math.max(t0 + 1_000, ...ends, active ? now : t0)
  const span = t1 - t0
  const chartWidth = WIDTH - LABEL_WIDTH - RIGHT_PAD
  const x = (t: number): number => LABEL_WIDTH + ((Math.min(Math.max(t, t0), t1) - t0) / span) * chartWidth
  const step = STEPS.find((s) => span / s <= 8) ?? 86_400_000
  const ticks = Array.from({ length: Math.floor(span / step) + 1 }, (_, i) => i * step)
  const height = AXIS + rows.length * ROW + 6
  const y = (i: number): number => AXIS + i * ROW
  const count = (status: Run['status']): number => runs.filter((run) => run.status === status).length
  const shownAll = pools.reduce((sum, node) => sum + node.counts.total, 0)
  const label =
    `Timeline of ${formatCount(runs.length)} runs${shownAll > runs.length ? ` (of ${formatCount(shownAll)})` : ''} in ${formatCount(pools.length)} ${pools.length === 1 ? 'pool' : 'pools'}, ` +
    `from ${new Date(t0).toISOString().slice(11, 19)} UTC over ${formatDuration(span)}: ` +
    `${count('succeeded')} succeeded, ${count('failed')} failed, ${count('cancelled')} cancelled, ${count('running') + count('waiting')} running, ${count('pending')} pending`
  return (
    <div class="gantt-wrap" id="pool-gantt">
      <svg
        class="gantt"
        viewBox={`0 0 ${WIDTH} ${height}`}
        width={String(WIDTH)}
        height={String(height)}
        role="img"
        aria-label={label}
        data-active={String(active)}
        data-rows={String(rows.length)}
        data-pools={pools.map((node) => node.pool.id).join(' ')}
      >
        <title>{label}</title>
        {ticks.map((offset) => (
          <g class="gantt-tick">
            <line class="grid" x1={num(x(t0 + offset))} y1={String(AXIS - 4)} x2={num(x(t0 + offset))} y2={String(height - 4)} />
            <text x={num(x(t0 + offset))} y="14" text-anchor={offset === 0 ? 'start' : 'middle'}>
              {tickLabel(offset, step)}
            </text>
          </g>
        ))}
        <line class="axis" x1={String(LABEL_WIDTH)} y1={String(AXIS - 4)} x2={String(WIDTH - RIGHT_PAD)} y2={String(AXIS - 4)} />
        {rows.map((row, i) => {
          const top = y(i)
          const indent = 6 + row.depth * INDENT
          const textY = String(top + ROW / 2 + 4)
          if (row.kind === 'pool') {
            const { node } = row
            const own = node.runs.map(({ run }) => spans(run, now))
            const from = node.pool.createdAt.getTime()
            const to = Math.max(from, ...own.map((s) => s.end))
            const text = `${node.depth === 0 ? 'pool' : 'nested pool'} ${poolName(node.pool)} · ${countsText(node.counts)}`
            const c = node.counts
            const short = `${poolName(node.pool)} · ${formatCount(c.succeeded + c.failed + c.cancelled)}/${formatCount(c.total)} done${c.failed === 0 ? '' : ` · ${formatCount(c.failed)} failed`}`
            return (
              <g class="gantt-pool" data-pool={node.pool.id} data-depth={String(node.depth)}>
                <title>{text}</title>
                <rect class="gantt-band" x="0" y={String(top + 1)} width={String(WIDTH)} height={String(ROW - 2)} />
                <text class="gantt-pool-label" x={String(indent)} y={textY}>
                  {fit(short, LABEL_WIDTH - indent - 6)}
                </text>
                <rect class="gantt-span" x={num(x(from))} y={String(top + ROW / 2 - 1)} width={num(Math.max(1, x(to) - x(from)))} height="2" />
              </g>
            )
          }
          if (row.kind === 'more') {
            return (
              <g class="gantt-more" data-more={String(row.node.more)}>
                <a href={`${page.admin}/runs?pool=${encodeURIComponent(row.node.pool.id)}`}>
                  <text x={String(indent)} y={textY}>
                    {`… and ${formatCount(row.node.more)} more runs`}
                  </text>
                </a>
              </g>
            )
          }
          const { run } = row
          const s = spans(run, now)
          const waitEnd = s.started ?? s.end
          const args = argsSummary(run.args, 60)
          return (
            <g class={`gantt-run gantt-${run.status}`} data-run-id={run.id} data-status={run.status} data-depth={String(row.depth)}>
              <title>{runTitle(run, now)}</title>
              <a href={`${page.admin}/runs/${run.id}`}>
                <text x={String(indent)} y={textY}>
                  {fit(`${run.task}${args === '' ? '' : ` ${args}`}`, LABEL_WIDTH - indent - 6)}
                </text>
              </a>
              <rect class="gantt-wait" x={num(x(s.created))} y={String(top + (ROW - WAIT_BAR) / 2)} width={num(Math.max(1, x(waitEnd) - x(s.created)))} height={String(WAIT_BAR)} />
              {s.started === null ? null : (
                <rect class="gantt-bar" x={num(x(s.started))} y={String(top + (ROW - BAR) / 2)} width={num(Math.max(2, x(s.end) - x(s.started)))} height={String(BAR)} rx="2" />
              )}
            </g>
          )
        })}
        {active ? <line class="gantt-now" x1={num(x(now))} y1={String(AXIS - 4)} x2={num(x(now))} y2={String(height - 4)} /> : null}
      </svg>
    </div>
  )
}

/** The legend under the chart: what each colour and shape means. */
export function GanttLegend() {
  const swatch = (status: string, name: string) => (
    <span>
      <svg class="sw" viewBox="0 0 10 10" aria-hidden="true">
        <rect class={`gantt-${status}`} width="10" height="10" />
      </svg>
      {name}
    </span>
  )
  return (
    <p class="legend gantt-legend">
      {swatch('succeeded', 'succeeded')}
      {swatch('failed', 'failed')}
      {swatch('cancelled', 'cancelled')}
      {swatch('running', 'running')}
      {swatch('waiting', 'waiting on its pool')}
      <span>
        <svg class="sw" viewBox="0 0 10 10" aria-hidden="true">
          <rect class="gantt-wait" y="3" width="10" height="4" />
        </svg>
        queued (created, not started)
      </span>
    </p>
  )
}
