/**
 * The admin UI's static files: the stylesheet and the browser script's ES modules, served
 * without credentials and nothing else; every module a page loads, and every module those
 * import, is there (run from the sources, each is transpiled on request as the build compiles it).
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/index.js'
import { createServer, type TaskEngineServer } from '../../src/server/index.js'

const CLIENT = join(import.meta.dirname, '..', '..', 'src', 'server', 'admin', 'client')
const TOKEN = 'a-token-of-sixteen-characters'

describe('admin assets', () => {
  let engine: Engine
  let server: TaskEngineServer
  beforeAll(() => {
    engine = createEngine({ tasks: [] })
    server = createServer(engine, { token: TOKEN })
  })
  afterAll(async () => {
    server.close()
    await engine.close({ graceMs: 0 })
  })

  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => Promise.resolve(server.fetch(new Request(`http://localhost${path}`, { headers })))

  it('loads the script as an ES module from the page, with no inline code', async () => {
    const page = await (await get('/admin', { authorization: `Bearer ${TOKEN}`, accept: 'text/html' })).text()
    expect(page).toContain('<script type="module" src="/admin/assets/client/main.js"></script>')
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
  })

  it('serves every client module, and every module they import, as JavaScript without credentials', async () => {
    const served = new Map<string, string>()
    const pending = readdirSync(CLIENT)
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
      .map((file) => `/admin/assets/client/${file.replace(/\.ts$/, '.js')}`)
    while (pending.length > 0) {
      const path = pending.pop()!
      if (served.has(path)) continue
      const response = await get(path)
      expect({ path, status: response.status, type: response.headers.get('content-type') }).toEqual({ path, status: 200, type: 'text/javascript; charset=utf-8' })
      const code = await response.text()
      served.set(path, code)
      // Type imports compile away; what is left must be served too.
      expect(code).not.toMatch(/import type|from ['"](?!\.)/)
      for (const [, specifier] of code.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)) pending.push(new URL(specifier!, `http://localhost${path}`).pathname)
    }
    expect([...served.keys()]).toContain('/admin/assets/shared/format.js')
    expect([...served.keys()].every((path) => /^\/admin\/assets\/(client|shared)\/[a-z-]+\.js$/.test(path))).toBe(true)
  })

  it('serves the stylesheet, and nothing that is not an asset', async () => {
    const css = await get('/admin/assets/app.css')
    expect(css.status).toBe(200)
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
    for (const path of ['/admin/assets/app.js', '/admin/assets/client/nope.js', '/admin/assets/client/Main.js', '/admin/assets/client/main.ts', '/admin/assets/stream/protocol.js', '/admin/assets/client/..%2Fassets.js', '/admin/assets/shared/format.d.ts', '/admin/assets/.hidden.css']) {
      const response = await get(path)
      expect({ path, status: response.status }).toEqual({ path, status: 404 })
    }
  })
})
