/**
 * Who may do what, over every route: a table names what each HTTP route needs, and every route
 * the app serves must be in it (a new route fails here until it is classified). Each role of
 * the built-in users (viewer, operator, admin, and two custom ones) calls every route with its
 * API token; the server must refuse with 403 "lacks the …" exactly when the role lacks what the
 * route needs, and let it through otherwise. A caller without credentials gets 401 (or the
 * sign-in page) everywhere but the public routes. The two WebSockets are checked with real
 * sockets.
 */
import { describe, expect, it, vi } from 'vitest'
import { DEFAULT_ROLES, createEngine, type Engine, type Run } from '../../src/index.js'
import { createServer, serve, type Permission } from '../../src/server/index.js'
import { apiHarness, greet, hang, nightly } from '../helpers/api.js'
import { WsClient } from '../helpers/ws-client.js'

const { engines, servers } = apiHarness()

/** What a route needs: nothing, a caller, run visibility (all or own), or a permission code. */
type Need = 'public' | 'caller' | 'read' | Permission

/** A request's body: JSON for the API, a form (CSRF added) for the admin UI. */
interface Call {
  readonly need: Need
  readonly json?: unknown
  readonly form?: Record<string, string>
  /** Query string to add. */
  readonly query?: string
  /** The status every caller gets, whoever it is (sign-in answers bad credentials with 401 to all). */
  readonly answers?: number
}

const CSRF = 'csrf-token-for-the-role-test'

/** Every route and what it needs. `:id` is a run (a schedule, bulk job or worker where the path says so). */
const ROUTES: Readonly<Record<string, Call>> = {
  'GET /healthz': { need: 'public' },
  'GET /readyz': { need: 'public' },
  'GET /': { need: 'public' },
  'GET /metrics': { need: 'metrics:read' },
  'GET /admin/assets/:file': { need: 'public' },
  'GET /admin/assets/:dir/:file': { need: 'public' },
  'GET /admin/login': { need: 'public' },
  'POST /admin/login': { need: 'public', form: { user: 'admin', password: 'not the password' }, answers: 401 },
  'POST /admin/logout': { need: 'caller', form: {} },
  'GET /admin': { need: 'read' },
  'GET /admin/task': { need: 'tasks:read' },
  'GET /admin/task/:key': { need: 'tasks:read' },
  'POST /admin/task/:key/run': { need: 'tasks:run', form: { name: 'role test' } },
  'POST /admin/task/:key/start': { need: 'tasks:run', form: { name: 'role test' } },
  'GET /admin/task/:key/run': { need: 'tasks:run', query: 'name=x' },
  'POST /admin/task/:key/enqueue': { need: 'tasks:run', form: { name: 'role test' } },
  'GET /admin/task/:key/remove': { need: 'settings:write' },
  'POST /admin/task/:key/remove': { need: 'settings:write', form: {} },
  'GET /admin/runs': { need: 'read' },
  'GET /admin/runs/export': { need: 'read' },
  'GET /admin/runs/diff': { need: 'read', query: 'a=RUN&b=RUN' },
  'POST /admin/runs/compare': { need: 'read', form: { id: 'RUN' } },
  'POST /admin/runs/bulk': { need: 'runs:cancel', form: { action: 'cancel' } },
  'POST /admin/runs/bulk/preview': { need: 'runs:retry', form: { action: 'retry' }, query: 'task=nothing-matches' },
  'POST /admin/runs/bulk/start': { need: 'runs:delete', form: { action: 'delete' }, query: 'task=nothing-matches' },
  'GET /admin/runs/bulk/:id': { need: 'read' },
  'POST /admin/runs/bulk/:id/cancel': { need: 'runs:cancel', form: {} },
  'GET /admin/runs/:id': { need: 'read' },
  'GET /admin/runs/:id/pools': { need: 'read' },
  'GET /admin/embed/runs/:id': { need: 'read' },
  'GET /admin/embed/runs/:id/pool': { need: 'read' },
  'POST /admin/runs/:id/cancel': { need: 'runs:cancel', form: {} },
  'POST /admin/runs/:id/retry': { need: 'runs:retry', form: {} },
  'POST /admin/runs/:id/delete': { need: 'runs:delete', form: {} },
  'GET /admin/workers': { need: 'workers:read' },
  'POST /admin/workers/:id/:command': { need: 'workers:write', form: {} },
  'GET /admin/queues': { need: 'read' },
  'POST /admin/flow/queue/:name': { need: 'settings:write', form: { concurrency: '' } },
  'POST /admin/flow/task/:key': { need: 'settings:write', form: { concurrency: '' } },
  'POST /admin/flow/task': { need: 'settings:write', form: { task: 'greet' } },
  'GET /admin/schedules': { need: 'schedules:read' },
  'GET /admin/schedules/:id': { need: 'schedules:read' },
  'POST /admin/schedules/:id/toggle': { need: 'schedules:write', form: { enabled: 'true' } },
  'POST /admin/schedules/:id/trigger': { need: 'schedules:write', form: {} },
  'GET /admin/settings': { need: 'settings:read' },
  'POST /admin/settings': { need: 'settings:write', form: {} },
  'GET /admin/audit': { need: 'audit:read' },
  'GET /admin/users': { need: 'users:read' },
  'POST /admin/users': { need: 'users:write', form: { name: '', role: 'viewer' } },
  'POST /admin/users/:name/role': { need: 'users:write', form: { role: 'viewer' } },
  'POST /admin/users/:name/password': { need: 'users:write', form: { password: 'x' } },
  'POST /admin/users/:name/disable': { need: 'users:write', form: {} },
  'POST /admin/users/:name/enable': { need: 'users:write', form: {} },
  'POST /admin/users/:name/sessions/end': { need: 'users:write', form: {} },
  'POST /admin/users/:name/tokens': { need: 'users:write', form: { name: '' } },
  'POST /admin/users/:name/tokens/:token/revoke': { need: 'users:write', form: {} },
  'GET /api/openapi.json': { need: 'caller' },
  'GET /api/me': { need: 'caller' },
  'GET /api/me/runs': { need: 'read' },
  'GET /api/tasks': { need: 'tasks:read' },
  'GET /api/tasks/:key': { need: 'tasks:read' },
  'POST /api/tasks/:key/run': { need: 'tasks:run', json: { args: { name: 'x' } } },
  'PUT /api/tasks/:key': { need: 'settings:write', json: {} },
  'POST /api/runs': { need: 'tasks:run', json: { task: 'greet', args: { name: 'x' } } },
  'GET /api/runs': { need: 'read' },
  'POST /api/runs/bulk': { need: 'runs:retry', json: { action: 'retry', filter: { task: 'nothing-matches' }, dryRun: true } },
  'GET /api/runs/bulk': { need: 'read' },
  'GET /api/runs/diff': { need: 'read', query: 'a=RUN&b=RUN' },
  'GET /api/runs/bulk/:id': { need: 'read' },
  'POST /api/runs/bulk/:id/cancel': { need: 'runs:cancel', json: {} },
  'GET /api/runs/:id': { need: 'read' },
  'GET /api/runs/:id/logs': { need: 'read' },
  'GET /api/runs/:id/artifacts': { need: 'read' },
  'GET /api/runs/:id/artifacts/:name': { need: 'read' },
  'POST /api/runs/:id/cancel': { need: 'runs:cancel', json: {} },
  'POST /api/runs/:id/retry': { need: 'runs:retry' },
  'DELETE /api/runs/:id': { need: 'runs:delete' },
  'GET /api/pools/:id': { need: 'read' },
  'GET /api/workers': { need: 'workers:read' },
  'POST /api/workers/:id/:command': { need: 'workers:write', json: {} },
  'GET /api/queues': { need: 'read' },
  'PUT /api/queues/:name': { need: 'settings:write', json: {} },
  'GET /api/flow': { need: 'read' },
  'GET /api/stats': { need: 'read' },
  'GET /api/history': { need: 'read' },
  'GET /api/schedules': { need: 'schedules:read' },
  'GET /api/schedules/:id': { need: 'schedules:read' },
  'POST /api/schedules/:id/toggle': { need: 'schedules:write', json: { enabled: true } },
  'POST /api/schedules/:id/trigger': { need: 'schedules:write', json: {} },
  'GET /api/schedules/:id/runs': { need: 'schedules:read' },
  'GET /api/settings': { need: 'settings:read' },
  'PUT /api/settings': { need: 'settings:write', json: {} },
  'GET /api/settings/log-backends': { need: 'settings:read' },
  'GET /api/users': { need: 'users:read' },
  'POST /api/users': { need: 'users:write', json: {} },
  'GET /api/users/:name': { need: 'users:read' },
  'PATCH /api/users/:name': { need: 'users:write', json: {} },
  'DELETE /api/users/:name/sessions': { need: 'users:write' },
  'GET /api/users/:name/tokens': { need: 'users:read' },
  'POST /api/users/:name/tokens': { need: 'users:write', json: {} },
  'DELETE /api/users/:name/tokens/:token': { need: 'users:write' },
  'GET /api/audit': { need: 'audit:read' },
}

/** The WebSocket routes, checked with real sockets below. */
const SOCKETS = ['GET /api/stream', 'GET /admin/task/:key/start']

/** The roles under test: the three defaults, one that reads only its own runs, one that reads nothing about runs. */
const ROLES = {
  ...DEFAULT_ROLES,
  requester: ['tasks:read', 'tasks:run', 'runs:read:own'],
  scraper: ['metrics:read'],
} as const satisfies Record<string, readonly (Permission | '*')[]>
type Role = keyof typeof ROLES

/** Whether a role passes what a route needs. */
function allowed(role: Role, need: Need): boolean {
  const codes: readonly string[] = ROLES[role]
  if (need === 'public' || need === 'caller') return true
  if (codes.includes('*')) return true
  if (need === 'read') return codes.includes('runs:read') || codes.includes('runs:read:own')
  return codes.includes(need)
}

interface World {
  readonly engine: Engine
  readonly tokens: Record<Role, string>
  readonly run: Run
  readonly bulkId: string
}

async function world(): Promise<{ world: World; request: (route: string, token: string | undefined) => Promise<Response> }> {
  const engine = createEngine({ tasks: [greet, hang], schedules: [nightly], pollIntervalMs: 20, users: { roles: ROLES } })
  engines.push(engine)
  const server = createServer(engine, { syncRunTimeoutMs: 200, onError: () => undefined })
  servers.push(server)
  const by = { id: 'test', kind: 'cli', via: 'cli' } as const
  const tokens = {} as Record<Role, string>
  for (const role of Object.keys(ROLES) as Role[]) {
    await engine.users.add(role, { role, by })
    tokens[role] = (await engine.users.createToken(role, { name: 'role-test', by })).token
  }
  await engine.users.add('someone', { role: 'viewer', by })
  // Made by the requester, so that every role that reads runs sees them (own-runs callers would get 404 for others').
  const run = await engine.enqueue(greet, { name: 'target' }, { createdBy: 'requester' })
  const bulk = await engine.bulk.start('cancel', { task: 'nothing-matches' }, 'requester')
  const params = (route: string): string => {
    const [, path] = route.split(' ') as [string, string]
    const id = path.includes('/schedules/') ? nightly.id : path.includes('/bulk/') ? bulk.id : path.includes('/workers/') ? 'no-such-worker' : run.id
    return path
      .replace(':dir/:file', 'client/main.js')
      .replace(':file', 'app.css')
      .replace(':key', 'greet')
      .replace(':command', 'quiet')
      .replace(':token', 'no-such-token')
      .replace(':name', path.startsWith('/api/runs/') ? 'greeting.txt' : path.includes('/users/') ? 'someone' : 'default')
      .replace(':id', id)
  }
  const request = async (route: string, token: string | undefined): Promise<Response> => {
    const call = ROUTES[route]!
    const [method] = route.split(' ') as [string]
    const headers = new Headers({ accept: route.includes(' /admin') ? 'text/html' : 'application/json' })
    if (token !== undefined) headers.set('authorization', `Bearer ${token}`)
    let body: string | undefined
    if (call.json !== undefined) {
      headers.set('content-type', 'application/json')
      body = JSON.stringify(call.json)
    } else if (call.form !== undefined) {
      headers.set('content-type', 'application/x-www-form-urlencoded')
      headers.set('cookie', `te_csrf=${CSRF}`)
      body = new URLSearchParams({ ...Object.fromEntries(Object.entries(call.form).map(([k, v]) => [k, v.replaceAll('RUN', run.id)])), _csrf: CSRF }).toString()
    }
    const url = `${params(route)}${call.query === undefined ? '' : `?${call.query.replaceAll('RUN', run.id)}`}`
    return server.app.request(url, { method, headers, ...(body === undefined ? {} : { body }) })
  }
  return { world: { engine, tokens, run, bulkId: bulk.id }, request }
}

/** Whether a response is the permission refusal (not a 403 for another reason, such as a stale form token). */
async function refused(response: Response): Promise<boolean> {
  return response.status === 403 && (await response.clone().text()).includes('lacks the')
}

describe('every route × every role', () => {
  it('classifies every route the app serves (a new route must say what it needs)', async () => {
    const engine = createEngine({})
    engines.push(engine)
    const server = createServer(engine, {})
    servers.push(server)
    const served = new Set(server.app.routes.filter((r) => r.method !== 'ALL' && r.path !== '/*').map((r) => `${r.method} ${r.path}`))
    expect([...served].filter((r) => !(r in ROUTES) && !SOCKETS.includes(r))).toEqual([])
    expect(Object.keys(ROUTES).filter((r) => !served.has(r))).toEqual([])
  })

  it('refuses exactly what each role lacks, with 403 naming the permission', async () => {
    const { world: w, request } = await world()
    const mismatches: string[] = []
    // The admin last: its writes (delete the run, …) would turn later calls into 404s, which are not refusals either way.
    for (const role of ['viewer', 'requester', 'scraper', 'operator', 'admin'] as Role[]) {
      for (const [route, call] of Object.entries(ROUTES)) {
        const response = await request(route, w.tokens[role])
        if (call.answers !== undefined) {
          if (response.status !== call.answers) mismatches.push(`${role} ${route}: ${response.status}, expected ${call.answers}`)
          continue
        }
        const expected = allowed(role, call.need)
        const wasRefused = await refused(response)
        const unauthenticated = response.status === 401
        if (unauthenticated || wasRefused === expected) mismatches.push(`${role} ${route}: ${response.status} ${(await response.text()).slice(0, 160)}`)
      }
    }
    expect(mismatches).toEqual([])
  })

  it('asks a caller without credentials to sign in on every route but the public ones, once there are users', async () => {
    const { request } = await world()
    const wrong: string[] = []
    for (const [route, call] of Object.entries(ROUTES)) {
      const response = await request(route, undefined)
      if (call.answers !== undefined) {
        if (response.status !== call.answers) wrong.push(`${route}: ${response.status}, expected ${call.answers}`)
        continue
      }
      const toSignIn = response.status === 303 && (response.headers.get('location') ?? '').includes('/admin/login')
      const challenged = response.status === 401 || toSignIn
      if (call.need === 'public' ? challenged : !challenged) wrong.push(`${route}: ${response.status}`)
    }
    expect(wrong).toEqual([])
  })

  it('applies the same roles to the live event stream and the live task view (WebSockets)', async () => {
    const engine = createEngine({ tasks: [greet, hang], users: { roles: ROLES } })
    engines.push(engine)
    const by = { id: 'test', kind: 'cli', via: 'cli' } as const
    const tokens = {} as Record<Role, string>
    for (const role of Object.keys(ROLES) as Role[]) {
      await engine.users.add(role, { role, by })
      tokens[role] = (await engine.users.createToken(role, { name: 'ws', by })).token
    }
    const running = await serve(engine, { port: 0 })
    try {
      const ws = running.url.replace('http', 'ws')
      for (const role of Object.keys(ROLES) as Role[]) {
        const stream = new WsClient(`${ws}/api/stream?access_token=${encodeURIComponent(tokens[role])}`)
        if (allowed(role, 'read')) {
          await stream.opened
          stream.socket.close()
        } else {
          await expect(stream.opened, role).rejects.toThrow(/HTTP 403/)
        }
      }
      // The live view needs a start ticket as well; without tasks:run the upgrade is refused before the ticket is looked at.
      for (const role of Object.keys(ROLES) as Role[]) {
        const live = new WsClient(`${ws}/admin/task/greet/start?ticket=none&access_token=${encodeURIComponent(tokens[role])}`)
        if (allowed(role, 'tasks:run')) {
          // Let in, then refused for the unknown ticket (close code 4003): nothing starts.
          await live.opened
          await vi.waitFor(() => expect(live.closed?.code, role).toBe(4003))
        } else {
          await expect(live.opened, role).rejects.toThrow(/HTTP 403/)
        }
      }
      await expect(new WsClient(`${ws}/api/stream`).opened).rejects.toThrow(/HTTP 401/)
    } finally {
      await running.close()
    }
  })
})
