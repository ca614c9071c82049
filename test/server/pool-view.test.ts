/**
 * The pool view of a run page in-process (`app.request`): the tree shows every level nested with
 * counts per level (before, a pool nested under a child was not expanded); the Gantt timeline
 * draws one bar per run coloured by status class, nested by pool, with waits, titles and an
 * accessible label; both are bounded for a wide pool; hostile strings stay text; the fragment
 * route answers the view alone.
 */
import { describe, expect, it } from 'vitest'
import { createEngine, defineTask, type Engine, type Run, type RunState } from '../../src/index.js'
import type { Store } from '../../src/store/types.js'
import { createServer } from '../../src/server/index.js'
import { apiHarness } from '../helpers/api.js'
import { text } from '../helpers/admin-session.js'
import { PATIENCE } from '../helpers/browser.js'
import { describePostgres } from '../helpers/postgres.js'
import { runReaches } from '../helpers/runs.js'

const { engines, servers } = apiHarness()
const HOSTILE = '<img src=x onerror="alert(1)">&'
const page = { headers: { accept: 'text/html' } }

const leaf = defineTask({
  key: 'leaf',
  fields: [{ key: 'note', type: 'string', default: 'ok' }],
  maxAttempts: 1,
  run(ctx) {
    if (ctx.args.note === 'fail') throw new Error('leaf failed on purpose')
    return ctx.args.note
  },
})
/** Level 3: two leaves, one failing. */
const deep = defineTask({
  key: 'deep',
  async run(ctx) {
    const pool = ctx.pool({ label: 'level-3' })
    await pool.addMany('leaf', [{ note: HOSTILE }, { note: 'fail' }])
    return (await pool.wait()).complete
  },
})
/** Level 2: one deep run. */
const mid = defineTask({
  key: 'mid',
  async run(ctx) {
    const pool = ctx.pool({ label: 'level-2' })
    await pool.add('deep', {})
    return (await pool.wait()).complete
  },
})
/** Level 1: two mid runs and a leaf. */
const top = defineTask({
  key: 'top',
  async run(ctx) {
    const pool = ctx.pool({ label: 'level-1' })
    await pool.addMany('mid', [{}, {}])
    await pool.add('leaf', {})
    return (await pool.wait()).complete
  },
})
/** One pool of `count` leaves. */
const wide = defineTask({
  key: 'wide',
  fields: [{ key: 'count', type: 'int', default: 120 }],
  async run(ctx) {
    const pool = ctx.pool({ label: `wide ${HOSTILE}` })
    await pool.addMany('leaf', Array.from({ length: ctx.args.count }, (_, i) => ({ note: `n${i}` })))
    return (await pool.wait()).complete
  },
})

async function started(store?: Store): Promise<{ engine: Engine; call: (path: string) => Promise<Response>; until: (id: string, status: RunState) => Promise<Run> }> {
  const engine = createEngine({ tasks: [leaf, deep, mid, top, wide], pollIntervalMs: 20, ...(store === undefined ? {} : { store }) })
  engines.push(engine)
  const server = createServer(engine, { onError: () => undefined })
  servers.push(server)
  await engine.start({ concurrency: 8 })
  return { engine, call: (path) => Promise.resolve(server.app.request(path, page)), until: (id, status) => runReaches(engine, id, status, PATIENCE.timeout) }
}

/** Every `<tag … data-run-id="…">` of a kind, in document order. */
function runIds(html: string, pattern: RegExp): string[] {
  return [...html.matchAll(pattern)].map((m) => m[1]!)
}

/** A three-level tree on the run page: every run listed and drawn, nested, counted per level. */
async function threeLevels({ engine, call, until }: Awaited<ReturnType<typeof started>>): Promise<void> {
  const run = await engine.enqueue(top, {})
  await until(run.id, 'succeeded')
  const all = (await engine.listRuns({ pageSize: 100 })).data.filter((r) => r.id !== run.id)
  // 2 mid + 1 leaf, 2 deep, 4 leaves below them.
  expect(all).toHaveLength(9)
  const html = await (await call(`/admin/runs/${run.id}`)).text()
  const tree = html.slice(html.indexOf('<div class="pool-tree"'))
  // Every run of the tree is listed once, however deep (before: the three of level 1 only).
  expect(runIds(tree, /<li data-run-id="([^"]+)"/g).sort()).toEqual(all.map((r) => r.id).sort())
  // Pools nested in the runs that opened them: level 1 once, level 2 twice, level 3 twice.
  const depths = [...tree.matchAll(/<div class="pool-branch" data-pool="[^"]+" data-depth="(\d)"/g)].map((m) => m[1])
  expect(depths).toEqual(['0', '1', '2', '1', '2'])
  const words = text(tree)
  expect(words).toContain('Opened pool level-1')
  expect(words).toContain('9 of 9 done · 2 failed · 0 running · done')
  expect(words).toContain('this level: 3 of 3 done · 0 failed · 0 running · 6 more in pools below')
  expect(words).toContain('this level: 1 of 1 done · 0 failed · 0 running')
  expect(words).toContain('this level: 2 of 2 done · 1 failed · 0 running')
  expect(words).toContain(`leaf note=${HOSTILE}`.slice(0, 20))

  // The Gantt: one bar per run, in the same nesting, coloured by a status class.
  const svg = /<svg class="gantt"[\s\S]*?<\/svg>/.exec(html)![0]
  expect(runIds(svg, /<g class="gantt-run gantt-\w+" data-run-id="([^"]+)"/g).sort()).toEqual(all.map((r) => r.id).sort())
  const statuses = [...svg.matchAll(/<g class="gantt-run gantt-(\w+)" data-run-id="[^"]+" data-status="(\w+)" data-depth="(\d)"/g)].map((m) => [m[1], m[2], m[3]])
  for (const [cls, status] of statuses) expect(cls).toBe(status)
  expect(statuses.filter(([, status]) => status === 'failed')).toHaveLength(2)
  expect(new Set(statuses.map(([, , depth]) => depth))).toEqual(new Set(['1', '2', '3']))
  expect([...svg.matchAll(/<g class="gantt-pool" data-pool="[^"]+" data-depth="(\d)"/g)].map((m) => m[1])).toEqual(['0', '1', '2', '1', '2'])
  // Each bar says what it is; the chart as a whole is an image with a label; ticks on an axis.
  expect(svg).toMatch(/^<svg class="gantt" viewBox="0 0 960 \d+"[^>]* role="img" aria-label="Timeline of 9 runs in 5 pools, from \d\d:\d\d:\d\d UTC over [^"]+: 7 succeeded, 2 failed, 0 cancelled, 0 running, 0 pending"/)
  expect(svg).toMatch(/<title>leaf note=fail: failed · waited \d+ ms · ran \d+ ms<\/title>/)
  expect(svg).toMatch(/<g class="gantt-tick"><line class="grid"[^>]*><\/line><text [^>]*>0 (ms|s)<\/text>/)
  expect(svg.match(/<rect class="gantt-bar"/g)).toHaveLength(9)
  expect(svg.match(/<rect class="gantt-wait"/g)).toHaveLength(9)
  expect(svg).toContain('data-active="false"')
  // Hostile arguments stay text, in the tree and the chart.
  expect(html).not.toContain(HOSTILE)
  expect(svg).toContain('>leaf note=&lt;img src=x onerror=&quot;al…</text>')
}

describe('the pool view of a run page', () => {
  it('shows every level of a three-level tree, nested, with counts per level, and a bar per run coloured by status', async () => {
    await threeLevels(await started())
  })

  it('bounds a wide pool: the first 50 runs in the tree and the chart, "and 70 more" linking to the pool\'s runs', async () => {
    const { engine, call, until } = await started()
    const run = await engine.enqueue(wide, { count: 120 })
    await until(run.id, 'succeeded')
    const html = await (await call(`/admin/runs/${run.id}`)).text()
    const tree = html.slice(html.indexOf('<div class="pool-tree"'))
    expect(runIds(tree, /<li data-run-id="([^"]+)"/g)).toHaveLength(50)
    const [pool] = await (await engine.store()).poolsOfRun(run.id)
    expect(tree).toContain(`<a class="pool-more small" href="/admin/runs?pool=${pool!.id}" data-more="70">and 70 more →</a>`)
    const svg = /<svg class="gantt"[\s\S]*?<\/svg>/.exec(html)![0]
    expect(svg.match(/<g class="gantt-run /g)).toHaveLength(50)
    expect(svg).toMatch(/data-rows="52"/)
    expect(text(svg)).toContain('… and 70 more runs')
    expect(svg).toContain('aria-label="Timeline of 50 runs (of 120) in 1 pool')
    // A hostile pool label is text in the tree and the chart.
    expect(html).not.toContain(HOSTILE)
    expect(svg).toContain('wide &lt;img src=x')
    expect(text(tree)).toContain(`Opened pool wide ${HOSTILE}`)
    // Oldest first: the first leaves added are the ones drawn.
    expect(text(svg)).toContain('leaf note=n0')
    expect(text(svg)).not.toContain('leaf note=n119')
  })

  it('answers the view alone at /admin/runs/:id/pools (the fragment the page refreshes), live while the pool runs', async () => {
    const hold = defineTask({ key: 'hold', run: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))) })
    const parent = defineTask({
      key: 'parent',
      async run(ctx) {
        const pool = ctx.pool({ label: 'holding' })
        await pool.addMany('hold', [{}, {}])
        await pool.wait()
      },
    })
    const engine = createEngine({ tasks: [hold, parent], pollIntervalMs: 20 })
    engines.push(engine)
    const server = createServer(engine, { onError: () => undefined })
    servers.push(server)
    await engine.start({ concurrency: 2 })
    const run = await engine.enqueue(parent, {})
    await runReaches(engine, run.id, 'waiting', PATIENCE.timeout)
    // One child runs in the slot the parent lent; the other waits for a slot.
    const response = await server.app.request(`/admin/runs/${run.id}/pools`, page)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    const html = await response.text()
    expect(html).toMatch(/^<div class="pool-view" id="pool-view" data-src="\/admin\/runs\/[^"]+\/pools">/)
    expect(html).not.toContain('<html')
    expect(html).toContain('data-active="true"')
    expect(html).toContain('<line class="gantt-now"')
    const statuses = [...html.matchAll(/<g class="gantt-run gantt-(\w+)"/g)].map((m) => m[1]).sort()
    expect(statuses.length).toBe(2)
    expect(statuses.every((s) => s === 'running' || s === 'pending')).toBe(true)
    // As data too.
    const data = (await (await server.app.request(`/admin/runs/${run.id}/pools?format=json`)).json()) as { pools: { runs: unknown[] }[] }
    expect(data.pools[0]!.runs).toHaveLength(2)
    // Unknown runs are a 404.
    expect((await server.app.request('/admin/runs/nope/pools', page)).status).toBe(404)
    await engine.cancel(run.id)
  })
})

await describePostgres('the pool view of a run page on PostgreSQL', ({ open }) => {
  it('shows every level of a three-level tree, nested, with counts per level, and a bar per run coloured by status', async () => {
    await threeLevels(await started(open()))
  })
})
