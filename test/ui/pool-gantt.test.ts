/**
 * In real Chromium: the run page's pool Gantt renders nested bars and follows a pool as it runs (a
 * bar turns from running to succeeded without a reload), in the light theme at 1280 px and the
 * dark one at 400 px, nothing wider than the screen, hostile strings as text; the embeddable run
 * view inside an iframe of a page served from an allowed origin (a second server on another
 * loopback port) loads and shows progress live, and from an origin not allowed the browser
 * refuses to frame it.
 *
 * One engine, server and browser for the file; runs hold until the test lets them go, so the
 * page is surely mid-way when it looks; waits are on conditions, never on time.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine, type Run, type RunState } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
// The run allowances of the admin UI's harness: the test hands out steps, a held run waits for them.
import { SHOTS, allow, allowed } from '../helpers/admin-ui.js'
import { Contexts, PATIENCE, browserAvailable, launchBrowser } from '../helpers/browser.js'
import { runReaches } from '../helpers/runs.js'

vi.setConfig({ expect: { poll: PATIENCE } })

/** What the in-page code touches, typed by hand: the tests compile without the DOM library. */
interface InPage {
  getComputedStyle(element: unknown): { readonly fill: string }
}

const HOSTILE = '<img src=x onerror="window.__xss=1">'

/** Holds until allowed one step, then reports 50%, and ends at the second. */
const gate = defineTask({
  key: 'gate',
  fields: [{ key: 'note', type: 'string', default: '' }],
  async run(ctx) {
    await allowed(ctx, 1)
    ctx.progress({ percent: 50, message: 'half way' })
    ctx.log('half way there')
    await allowed(ctx, 2)
    return ctx.args.note
  },
})
/** Opens a nested pool of one gate. */
const middle = defineTask({
  key: 'middle',
  async run(ctx) {
    const pool = ctx.pool({ label: 'inner' })
    await pool.add('gate', { note: 'deep' })
    return (await pool.wait()).complete
  },
})
/** Opens a pool of two gates (one with a hostile note) and a middle. */
const fan = defineTask({
  key: 'fan',
  async run(ctx) {
    const pool = ctx.pool({ label: 'outer' })
    await pool.addMany('gate', [{ note: 'first' }, { note: HOSTILE }])
    await pool.add('middle', {})
    return (await pool.wait()).complete
  },
})

/** A page on its own port that frames `target` (the embed under test). */
async function hostPage(target: () => string): Promise<{ server: Server; origin: string }> {
  const server = createHttpServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(`<!DOCTYPE html><html><head><title>host app</title></head><body><h1>Host app</h1><iframe id="embed" title="run" src="${target()}" width="560" height="520"></iframe></body></html>`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, origin: `http://localhost:${(server.address() as { port: number }).port}` }
}

const run = browserAvailable() ? describe : describe.skip

run('the pool Gantt and the embeddable views in Chromium', { timeout: 90_000 }, () => {
  let dir: string
  let engine: Engine
  let server: RunningServer
  let browser: Browser
  let allowedHost: { server: Server; origin: string }
  let otherHost: { server: Server; origin: string }
  let target = ''
  const contexts = new Contexts(() => browser)
  const url = (path: string): string => `${server.url}${path}`

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    dir = mkdtempSync(join(tmpdir(), 'taskengine-gantt-'))
    engine = createEngine({ tasks: [gate, middle, fan], store: sqliteStore(join(dir, 'runs.db')), pollIntervalMs: 20, progressIntervalMs: 50 })
    await engine.start({ concurrency: 6 })
    allowedHost = await hostPage(() => target)
    otherHost = await hostPage(() => target)
    server = await serve(engine, { port: 0, onError: () => undefined, streamPollIntervalMs: 100, allowedFrameAncestors: [allowedHost.origin] })
    browser = await launchBrowser()
  }, 60_000)

  afterEach(async () => {
    await contexts.closeAll()
    // Let every held run end, so the next test starts with free slots.
    for (const left of (await engine.listRuns({ status: ['pending', 'running', 'waiting'], pageSize: 100 })).data) await engine.cancel(left.id, 'left over').catch(() => undefined)
  })

  afterAll(async () => {
    await contexts.closeAll()
    await browser?.close()
    await server?.close()
    await engine?.close({ graceMs: 0 })
    for (const host of [allowedHost, otherHost]) await new Promise((resolve) => host?.server.close(resolve))
    rmSync(dir, { recursive: true, force: true })
  })

  async function openPage(width: number, colorScheme: 'light' | 'dark'): Promise<{ page: Page; problems: string[] }> {
    const context = await contexts.open({ viewport: { width, height: 900 }, colorScheme })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error' && !/directive: "frame-ancestors/.test(message.text())) problems.push(`console: ${message.text()}`)
    })
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`)
      void dialog.accept()
    })
    return { page, problems }
  }

  const until = (id: string, status: RunState): Promise<Run> => runReaches(engine, id, status, PATIENCE.timeout)
  const gates = async (): Promise<readonly Run[]> => (await engine.listRuns({ task: 'gate', status: 'running', pageSize: 10 })).data

  it('draws the pool tree as nested bars and turns a bar from running to succeeded live, in both themes, at 1280 and 400 px', async () => {
    const parent = await engine.enqueue(fan, {})
    await until(parent.id, 'waiting')
    await vi.waitFor(async () => expect(await gates()).toHaveLength(3), PATIENCE)
    const [first] = (await engine.listRuns({ task: 'gate', search: 'first' })).data
    const { page, problems } = await openPage(1280, 'light')
    await page.goto(url(`/admin/runs/${parent.id}`))
    const bars = page.locator('#pool-gantt g.gantt-run')
    await expect.poll(() => bars.count()).toBe(4)
    // Nested by pool: the outer pool's runs at depth 1, the inner gate at depth 2.
    expect(await page.locator('#pool-gantt g.gantt-pool').evaluateAll((gs: { getAttribute(name: string): string | null }[]) => gs.map((g) => g.getAttribute('data-depth')))).toEqual(['0', '1'])
    expect(await page.locator('#pool-gantt g.gantt-run[data-depth="2"]').count()).toBe(1)
    expect(await page.locator('#pool-gantt svg').getAttribute('role')).toBe('img')
    expect(await page.locator('#pool-gantt svg').getAttribute('aria-label')).toMatch(/^Timeline of 4 runs in 2 pools/)
    const bar = page.locator(`#pool-gantt g.gantt-run[data-run-id="${first!.id}"]`)
    expect(await bar.getAttribute('data-status')).toBe('running')
    // The running bar in the light theme's run colour.
    expect(await bar.locator('rect.gantt-bar').evaluate((r) => (globalThis as unknown as InPage).getComputedStyle(r).fill)).toBe('rgb(29, 78, 216)')
    // The page must not reload: a mark left in it must survive the update.
    await page.evaluate(() => ((globalThis as unknown as { __mark: number }).__mark = 1))
    allow(first!.id, 2)
    await expect.poll(() => bar.getAttribute('data-status')).toBe('succeeded')
    expect(await page.evaluate(() => (globalThis as unknown as { __mark?: number }).__mark)).toBe(1)
    expect(await page.locator(`#pool-gantt g.gantt-run[data-run-id="${first!.id}"] rect.gantt-bar`).evaluate((r) => (globalThis as unknown as InPage).getComputedStyle(r).fill)).toBe('rgb(21, 128, 61)')
    // The tree below, nested, updated too.
    expect(await page.locator(`#pool-tree li[data-run-id="${first!.id}"]`).getAttribute('data-status')).toBe('succeeded')
    expect(await page.locator('#pool-tree .pool-branch .pool-branch[data-depth="1"]').count()).toBe(1)
    // Hostile strings are text: in a bar's label and title, never markup.
    expect(await page.locator('#pool-gantt').textContent()).toContain('note=<img src=x onerror=')
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined()
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280)
    await page.locator('#pool-view').screenshot({ path: join(SHOTS, 'pool-gantt-1280-light.png') })

    const narrow = await openPage(400, 'dark')
    await narrow.page.goto(url(`/admin/runs/${parent.id}`))
    const succeeded = narrow.page.locator(`#pool-gantt g.gantt-run[data-run-id="${first!.id}"] rect.gantt-bar`)
    // The dark theme's colours, from the same stylesheet variables.
    expect(await succeeded.evaluate((r) => (globalThis as unknown as InPage).getComputedStyle(r).fill)).toBe('rgb(74, 222, 128)')
    // The chart scrolls in its box; the page is no wider than the screen.
    expect(await narrow.page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(400)
    await narrow.page.locator('#pool-view').screenshot({ path: join(SHOTS, 'pool-gantt-400-dark.png') })
    await narrow.page.screenshot({ path: join(SHOTS, 'pool-run-page-400-dark.png'), fullPage: true })
    for (const left of await gates()) allow(left.id, 2)
    await until(parent.id, 'succeeded')
    expect([...problems, ...narrow.problems]).toEqual([])
  })

  it('an embed framed by a page of an allowed origin loads and follows the run live; a page of another origin cannot frame it', async () => {
    const held = await engine.enqueue(gate, { note: 'embedded' })
    await until(held.id, 'running')
    target = url(`/admin/embed/runs/${held.id}`)
    const { page, problems } = await openPage(1280, 'light')
    await page.goto(allowedHost.origin)
    const frame = page.frameLocator('#embed')
    await expect.poll(() => frame.locator('#run-page').getAttribute('data-status')).toBe('running')
    expect(await frame.locator('nav.nav').count()).toBe(0)
    // Progress and the log tail arrive live, without a reload of the frame.
    await frame.locator('#live-state[data-state="live"]').waitFor(PATIENCE)
    allow(held.id, 1)
    await expect.poll(() => frame.locator('#run-progress progress').getAttribute('value')).toBe('50')
    await expect.poll(() => frame.locator('#run-log').textContent()).toContain('half way there')
    await page.screenshot({ path: join(SHOTS, 'embed-in-host-1280.png') })
    allow(held.id, 2)
    await expect.poll(() => frame.locator('#run-page').getAttribute('data-status')).toBe('succeeded')
    // The embed follows the viewer's system theme, or the host app's `?theme=`.
    expect(problems).toEqual([])

    // Another origin: the browser refuses the frame (CSP frame-ancestors), nothing of the run shows.
    const other = await openPage(1280, 'light')
    const messages: string[] = []
    other.page.on('console', (m) => messages.push(m.text()))
    await other.page.goto(otherHost.origin)
    await expect.poll(() => messages.join('\n')).toMatch(/violates the following Content Security Policy directive: "frame-ancestors http:\/\/localhost:\d+"\. The request has been blocked/)
    expect(await other.page.frameLocator('#embed').locator('#run-page').count()).toBe(0)
  })
})
