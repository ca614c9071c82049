/**
 * The embeddable views over HTTP: minimal chrome (no navigation, no actions) with the run's
 * status, progress and log tail and its pool view; framable only from the origins of
 * `allowedFrameAncestors` and only on the embed routes (every other answer keeps
 * `frame-ancestors 'none'` and `X-Frame-Options: DENY`); the same permissions; bad origins refused
 * when the server is built, and by `taskengine serve` naming its flag or the config file.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ValidationError, createEngine, defineTask } from '../../src/index.js'
import { createServer } from '../../src/server/index.js'
import { apiHarness, greet } from '../helpers/api.js'
import { text } from '../helpers/admin-session.js'
import { PATIENCE } from '../helpers/browser.js'
import { ROOT, runInProcess } from '../helpers/cli.js'
import { runReaches } from '../helpers/runs.js'
import { frameAncestors } from '../../src/server/frame-ancestors.js'

const { setup, engines, servers } = apiHarness()
const page = { headers: { accept: 'text/html' } }
// Inside the package, so that a config file's `import 'taskengine'` resolves (to the build).
mkdirSync(join(ROOT, 'test-results'), { recursive: true })
const dir = mkdtempSync(join(ROOT, 'test-results', 'embed-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const ORIGINS = ['https://app.example', 'http://localhost:3000']

describe('embeddable views', () => {
  it('shows a run with minimal chrome: status, progress, the last log lines, a link out; no navigation and no actions', async () => {
    const { engine, call } = setup()
    const run = await engine.run(greet, { name: '<b>embed</b>' }, { record: true })
    const response = await call(`/admin/embed/runs/${run.id}`, page)
    expect(response.status).toBe(200)
    const html = await response.text()
    expect(html).toMatch(/^<!DOCTYPE html><html lang="en">/)
    expect(html).not.toContain('<nav class="nav"')
    expect(html).not.toContain('<form method="post"')
    expect(html).toContain('<base target="_blank"/>')
    expect(html).toMatch(/<div class="embed-run" id="run-page" data-run-id="[^"]+" data-status="succeeded" data-embed="run">/)
    expect(html).toContain('id="run-log"')
    expect(text(html)).toContain('hello <b>embed</b>')
    expect(html).not.toContain('<b>embed</b>')
    expect(html).toContain(`href="/admin/runs/${run.id}" rel="noopener">Open in taskengine ↗</a>`)
    // The host app's theme, when it says one.
    expect(await (await call(`/admin/embed/runs/${run.id}?theme=dark`, page)).text()).toMatch(/^<!DOCTYPE html><html lang="en" data-theme="dark" data-theme-fixed="">/)
    // Unknown runs are a 404; data for clients asking for it.
    expect((await call('/admin/embed/runs/nope', page)).status).toBe(404)
    expect(((await (await call(`/admin/embed/runs/${run.id}?format=json`)).json()) as { run: { id: string } }).run.id).toBe(run.id)
  })

  it('shows the pool view of a run that opened pools (timeline and tree), alone at …/pool', async () => {
    const child = defineTask({ key: 'child', run: () => 'done' })
    const parent = defineTask({
      key: 'parent',
      async run(ctx) {
        const pool = ctx.pool({ label: 'kids' })
        await pool.addMany('child', [{}, {}])
        return (await pool.wait()).complete
      },
    })
    const engine = createEngine({ tasks: [child, parent, greet], pollIntervalMs: 20 })
    engines.push(engine)
    const server = createServer(engine, { onError: () => undefined })
    servers.push(server)
    await engine.start({ concurrency: 3 })
    const run = await engine.enqueue(parent, {})
    await runReaches(engine, run.id, 'succeeded', PATIENCE.timeout)
    const whole = await (await server.app.request(`/admin/embed/runs/${run.id}`, page)).text()
    expect(whole).toContain('id="run-log"')
    expect(whole.match(/<g class="gantt-run gantt-succeeded"/g)).toHaveLength(2)
    const pool = await (await server.app.request(`/admin/embed/runs/${run.id}/pool`, page)).text()
    expect(pool).toContain('data-embed="pool"')
    expect(pool).not.toContain('id="run-log"')
    expect(pool).toContain(`<div class="pool-view" id="pool-view" data-src="/admin/runs/${run.id}/pools">`)
    expect(text(pool)).toContain('Opened pool kids')
    const lone = await engine.enqueue(greet, { name: 'alone' })
    expect(text(await (await server.app.request(`/admin/embed/runs/${lone.id}/pool`, page)).text())).toContain('This run opened no pool.')
  })

  it('without allowedFrameAncestors nothing may frame the embeds either (as before): frame-ancestors \'none\', X-Frame-Options DENY', async () => {
    const { engine, call } = setup()
    const run = await engine.enqueue(greet, { name: 'x' })
    for (const path of [`/admin/embed/runs/${run.id}`, `/admin/embed/runs/${run.id}/pool`]) {
      const response = await call(path, page)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
      expect(response.headers.get('x-frame-options')).toBe('DENY')
    }
  })

  it('lets the allowed origins frame the embed routes only; every other page, API answer and error stays unframeable', async () => {
    const { engine, call } = setup({ allowedFrameAncestors: [...ORIGINS, 'HTTPS://Other.Example/'] })
    const run = await engine.enqueue(greet, { name: 'x' })
    for (const path of [`/admin/embed/runs/${run.id}`, `/admin/embed/runs/${run.id}/pool`]) {
      const response = await call(path, page)
      expect(response.status).toBe(200)
      const csp = response.headers.get('content-security-policy')!
      // The page's own CSP otherwise: scripts and styles from this server only.
      expect(csp).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors https://app.example http://localhost:3000 https://other.example; base-uri 'none'")
      expect(response.headers.get('x-frame-options')).toBeNull()
    }
    for (const path of ['/admin', `/admin/runs/${run.id}`, `/admin/runs/${run.id}/pools`, '/admin/login', '/admin/embed/runs/nope', `/api/runs/${run.id}`, '/admin/assets/app.css']) {
      const response = await call(path, page)
      expect(response.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'")
      expect(response.headers.get('x-frame-options'), path).toBe('DENY')
    }
  })

  it('asks the same permissions as the run page: a caller who may not read the run gets a 404, one without runs:read a 403', async () => {
    const engine = createEngine({ tasks: [greet] })
    engines.push(engine)
    const run = await engine.enqueue(greet, { name: 'x' }, { createdBy: 'ann' })
    const as = (id: string, permissions: string[]) => {
      const server = createServer(engine, { auth: () => ({ id, permissions: permissions as never }), allowedFrameAncestors: ORIGINS })
      servers.push(server)
      return (path: string) => server.app.request(path, page)
    }
    expect((await as('ann', ['runs:read:own'])(`/admin/embed/runs/${run.id}`)).status).toBe(200)
    expect((await as('bob', ['runs:read:own'])(`/admin/embed/runs/${run.id}`)).status).toBe(404)
    expect((await as('eve', ['tasks:read'])(`/admin/embed/runs/${run.id}`)).status).toBe(403)
  })

  it('refuses bad origins when the server is built, quoting the entry', () => {
    const engine = createEngine({ tasks: [greet] })
    engines.push(engine)
    const cases: [unknown, string][] = [
      ['https://app.example', 'allowedFrameAncestors: expected an array of origins such as ["https://app.example.com"], got "https://app.example" (string)'],
      [['https://app.example/path'], 'allowedFrameAncestors[0]: expected an origin such as "https://app.example.com" or "http://localhost:3000" (scheme, host and port; no path, wildcard or quotes), got "https://app.example/path" (string): an origin only'],
      [['https://ok.example', '*'], 'allowedFrameAncestors[1]: expected an origin such as "https://app.example.com" or "http://localhost:3000" (scheme, host and port; no path, wildcard or quotes), got "*" (string): the scheme must be http or https'],
      [["'self'"], 'the scheme must be http or https'],
      [['https://*.example.com'], 'an origin only'],
      [['https://a.example; script-src *'], 'not a URL'],
      [['ftp://files.example'], 'the scheme must be http or https'],
      [['https://user@app.example'], 'an origin only'],
      [[42], 'got 42 (number): not a string'],
    ]
    for (const [value, message] of cases) {
      expect(() => createServer(engine, { allowedFrameAncestors: value as string[] }), String(value)).toThrow(ValidationError)
      expect(() => createServer(engine, { allowedFrameAncestors: value as string[] }), String(value)).toThrow(message)
    }
    // A default port or a trailing slash is the same origin.
    expect(frameAncestors(['https://app.example:443', 'http://localhost:3000/', 'HTTPS://Big.Example'])).toEqual(['https://app.example', 'http://localhost:3000', 'https://big.example'])
  })

  it('taskengine serve refuses a bad origin of --allowed-frame-ancestors, its variable or the config file, naming where it came from', async () => {
    const wording = '--allowed-frame-ancestors (or TASKENGINE_ALLOWED_FRAME_ANCESTORS, or allowedFrameAncestors in the config file): expected an origin such as'
    const flag = await runInProcess(['serve', '--port', '0', '--store', ':memory:', '--allowed-frame-ancestors', 'https://ok.example, https://bad.example/x'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain(wording)
    expect(flag.stderr).toContain('got "https://bad.example/x" (string)')
    const variable = await runInProcess(['serve', '--port', '0', '--store', ':memory:'], { env: { TASKENGINE_ALLOWED_FRAME_ANCESTORS: 'nope' } })
    expect(variable.code).toBe(2)
    expect(variable.stderr).toContain('got "nope" (string)')
    // Each config in a directory of its own: an imported module is cached by its path.
    const config = (name: string, origins: string): string => {
      mkdirSync(join(dir, name))
      writeFileSync(join(dir, name, 'taskengine.config.mjs'), `import { defineConfig, defineTask } from 'taskengine'\nexport default defineConfig({ tasks: [defineTask({ key: 'x', run: () => 1 })], allowedFrameAncestors: ${origins} })\n`)
      return join(dir, name)
    }
    // The flag wins over the config file.
    const overridden = await runInProcess(['serve', '--port', '0', '--store', ':memory:', '--allowed-frame-ancestors', 'https://a.example/b'], { cwd: config('good', "['https://app.example/']") })
    expect(overridden.code).toBe(2)
    expect(overridden.stderr).toContain('got "https://a.example/b" (string)')
    const fromConfig = await runInProcess(['serve', '--port', '0', '--store', ':memory:'], { cwd: config('bad', "['https://app.example/x']") })
    expect(fromConfig.code).toBe(2)
    expect(fromConfig.stderr).toContain(wording)
    expect(fromConfig.stderr).toContain('got "https://app.example/x" (string)')
  })
})
