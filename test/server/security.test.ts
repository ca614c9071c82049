/**
 * The server against the attacks of a first deployment, over real sockets: DNS rebinding (a
 * page whose name resolves to 127.0.0.1 controls `Host` and `Origin`), cross-site requests,
 * weak tokens, and request bodies that are not UTF-8. Requests go through raw `http.request`
 * so that the test, not a client library, decides `Host` and `Origin`.
 */
import { request as httpRequest } from 'node:http'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ValidationError, createEngine, defineTask, type Engine } from '../../src/index.js'
import { createServer, serve, tokenAuth, type RunningServer, type ServeOptions } from '../../src/server/index.js'
import { WsClient } from '../helpers/ws-client.js'

const hello = defineTask({ key: 'hello', fields: [{ key: 'name', type: 'string', default: 'world' }], run: (ctx) => ({ greeting: `Hello, ${ctx.args.name}!` }) })
const TOKEN = 'a-token-of-thirty-two-characters'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function newEngine(): Engine {
  const engine = createEngine({ tasks: [hello] })
  cleanups.push(() => engine.close({ graceMs: 0 }))
  return engine
}

async function started(engine: Engine, options: ServeOptions = {}): Promise<RunningServer> {
  const running = await serve(engine, { port: 0, onError: () => undefined, ...options })
  cleanups.push(() => running.close())
  return running
}

interface Answer {
  readonly status: number
  readonly body: { error?: { code: string; message: string } } & Record<string, unknown>
}

/** One request over a raw socket to 127.0.0.1:port, with exactly the headers given (Host included). */
function raw(port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let parsed: Answer['body']
        try {
          parsed = JSON.parse(text) as Answer['body']
        } catch {
          parsed = { text }
        }
        resolve({ status: res.statusCode ?? 0, body: parsed })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** The request of the issue: a rebinding page at attacker.example posting a run to 127.0.0.1. */
const rebound = (port: number, extra: Record<string, string> = {}): Promise<Answer> =>
  raw(port, 'POST', '/api/runs', { host: `attacker.example:${port}`, origin: `http://attacker.example:${port}`, 'content-type': 'application/json', ...extra }, JSON.stringify({ task: 'hello' }))

describe('DNS rebinding', () => {
  it('refuses a request whose Host is not a loopback name on a server without a token, and stores nothing', async () => {
    const engine = newEngine()
    const { port } = await started(engine)
    const answer = await rebound(port)
    expect(answer.status).toBe(403)
    expect(answer.body.error).toEqual({
      code: 'ERR_HOST_NOT_ALLOWED',
      message: `host "attacker.example:${port}" is not allowed: without a token this server answers only loopback names (localhost, 127.0.0.1, [::1]); to reach it under another name, add that name to allowedHosts (taskengine serve --allowed-hosts attacker.example), or require a token or add users`,
    })
    // Reads too: a rebinding page must not read runs, tasks or the admin UI either.
    expect((await raw(port, 'GET', '/api/tasks', { host: `attacker.example:${port}` })).status).toBe(403)
    expect((await raw(port, 'GET', '/admin', { host: 'attacker.example' })).status).toBe(403)
    expect((await engine.listRuns({})).total).toBe(0)
    // Health checks carry nothing and answer whatever the name.
    expect((await raw(port, 'GET', '/healthz', { host: 'attacker.example' })).status).toBe(200)
  })

  it('answers loopback names with any port, and the names in allowedHosts', async () => {
    const engine = newEngine()
    const { port } = await started(engine, { allowedHosts: ['ops.example', '.lan.example'] })
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost', 'ops.example', `ops.example:${port}`, 'box.lan.example', 'lan.example:80']) {
      expect((await raw(port, 'GET', '/api/tasks', { host })).status, host).toBe(200)
    }
    for (const host of ['attacker.example', 'ops.example.attacker.example', 'xlan.example', 'localhost.attacker.example', '127.0.0.1.attacker.example']) {
      expect((await raw(port, 'GET', '/api/tasks', { host })).status, host).toBe(403)
    }
    const posted = await raw(port, 'POST', '/api/runs', { host: `ops.example:${port}`, origin: `http://ops.example:${port}`, 'content-type': 'application/json' }, JSON.stringify({ task: 'hello' }))
    expect(posted.status).toBe(201)
    // The same page from a loopback origin (a local tool) may post too.
    expect((await raw(port, 'POST', '/api/runs', { host: `127.0.0.1:${port}`, origin: `http://localhost:${port}`, 'content-type': 'application/json' }, JSON.stringify({ task: 'hello' }))).status).toBe(201)
  })

  it('refuses browser origins that are not loopback or allowed, on writes, whatever the Host says', async () => {
    const engine = newEngine()
    const { port } = await started(engine, { allowedOrigins: ['https://ops.example'] })
    const post = (origin: string) => raw(port, 'POST', '/api/runs', { host: `127.0.0.1:${port}`, origin, 'content-type': 'application/json' }, JSON.stringify({ task: 'hello' }))
    const foreign = await post('http://attacker.example')
    expect(foreign.status).toBe(403)
    expect(foreign.body.error).toEqual({
      code: 'ERR_ORIGIN_NOT_ALLOWED',
      message: 'cross-site request refused: origin "http://attacker.example" is not allowed to change anything here; allowed are loopback origins and those in allowedOrigins or allowedHosts (add "attacker.example" to allowedHosts, or "http://attacker.example" to allowedOrigins, if it is yours)',
    })
    // Origin: null (sandboxed frames, pages that send no referrer) proves nothing about the page.
    expect((await post('null')).status).toBe(403)
    // A schedule trigger needs no body: a cross-site form could fire it without the Origin check.
    expect((await raw(port, 'POST', '/api/schedules/taskengine.retention/trigger', { host: `127.0.0.1:${port}`, origin: 'http://attacker.example' })).status).toBe(403)
    expect((await engine.listRuns({})).total).toBe(0)
    expect((await post('https://ops.example')).status).toBe(201)
    // Programs send no Origin; reads from anywhere are not writes.
    expect((await raw(port, 'POST', '/api/runs', { host: `127.0.0.1:${port}`, 'content-type': 'application/json' }, JSON.stringify({ task: 'hello' }))).status).toBe(201)
    expect((await raw(port, 'GET', '/api/runs', { host: `127.0.0.1:${port}`, origin: 'http://attacker.example' })).status).toBe(200)
  })

  it('checks the Origin of WebSocket upgrades against loopback and allowed origins, not against Host', async () => {
    const engine = newEngine()
    const { port } = await started(engine, { allowedHosts: ['ops.example'] })
    const stream = `ws://127.0.0.1:${port}/api/stream`
    const open = async (headers: Record<string, string>) => {
      const client = new WsClient(stream, headers)
      cleanups.push(() => client.socket.terminate())
      await client.opened
      await vi.waitFor(() => expect(client.of('hello')).toHaveLength(1))
    }
    // Before: an Origin matching the Host was enough, and a rebinding page controls both.
    await expect(open({ host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` })).rejects.toThrow('HTTP 403')
    await expect(open({ origin: `http://attacker.example:${port}` })).rejects.toThrow('HTTP 403')
    await expect(open({ origin: 'null' })).rejects.toThrow('HTTP 403')
    await open({ origin: `http://localhost:${port}` })
    await open({ host: 'ops.example', origin: 'https://ops.example' })
    await open({})
  })

  it('checks hosts in a mounted server too, where allowedHosts names the host app', async () => {
    const engine = newEngine()
    const open = createServer(engine, { onError: () => undefined })
    const named = createServer(engine, { allowedHosts: ['app.example'], onError: () => undefined })
    cleanups.push(() => open.close(), () => named.close())
    const at = (host: string) => ({ headers: { host } })
    expect((await open.fetch(new Request('http://app.example/api/tasks', at('app.example')))).status).toBe(403)
    expect((await open.fetch(new Request('http://localhost/api/tasks'))).status).toBe(200)
    expect((await named.fetch(new Request('http://app.example/api/tasks', at('app.example')))).status).toBe(200)
  })

  it('leaves the Host to the token (or a custom resolver) when there is one: any name works, the server\'s own pages may write, other sites may not', async () => {
    const engine = newEngine()
    const { port } = await started(engine, { host: '0.0.0.0', token: TOKEN })
    const bearer = { authorization: `Bearer ${TOKEN}` }
    expect((await raw(port, 'GET', '/api/tasks', { host: `attacker.example:${port}` })).status).toBe(401)
    expect((await raw(port, 'GET', '/api/tasks', { host: `ops.example:${port}`, ...bearer })).status).toBe(200)
    // A rebinding page has no credentials of the site: nothing passes.
    expect((await rebound(port)).status).toBe(401)
    const post = (headers: Record<string, string>): Promise<Answer> => raw(port, 'POST', '/api/runs', { host: `ops.example:${port}`, 'content-type': 'application/json', ...headers }, JSON.stringify({ task: 'hello' }))
    expect((await post(bearer)).status).toBe(201)
    // The server's own pages, under the name they were opened under, write without allowedHosts…
    expect((await post({ origin: `http://ops.example:${port}`, cookie: `taskengine_token=${TOKEN}` })).status).toBe(201)
    const login = await raw(port, 'POST', '/admin/login', { host: `ops.example:${port}`, origin: `http://ops.example:${port}`, 'content-type': 'application/x-www-form-urlencoded' }, 'token=wrong')
    expect(login.body.error?.code).not.toBe('ERR_ORIGIN_NOT_ALLOWED')
    // …while a page of another site may not, even with the cookie its browser attaches.
    const crossSite = await post({ origin: 'http://evil.example', cookie: `taskengine_token=${TOKEN}` })
    expect([crossSite.status, crossSite.body.error?.code]).toEqual([403, 'ERR_ORIGIN_NOT_ALLOWED'])
    const resolver = await started(engine, { auth: (request) => (request.headers.get('x-user') === 'ada' ? { id: 'ada', permissions: ['*'] } : null) })
    expect((await raw(resolver.port, 'GET', '/api/tasks', { host: 'ops.example', 'x-user': 'ada' })).status).toBe(200)
  })

  it('refuses allowedHosts and allowedOrigins that are not host names or origins, quoting them', () => {
    const engine = newEngine()
    expect(() => createServer(engine, { allowedHosts: ['http://ops.example/'] })).toThrow(
      new ValidationError('allowedHosts[0]: expected a host name such as "ops.example", "ops.example:8443" or ".example.com" (the domain and its subdomains), without scheme or path, got "http://ops.example/" (string)'),
    )
    expect(() => createServer(engine, { allowedHosts: [''] })).toThrow(/allowedHosts\[0\]: expected a host name/)
    expect(() => createServer(engine, { allowedOrigins: ['ops.example'] })).toThrow(
      new ValidationError('allowedOrigins[0]: expected an origin such as "https://ops.example" or "http://localhost:3000" (scheme, host and port, no path), got "ops.example" (string)'),
    )
  })
})

describe('weak tokens', () => {
  const MESSAGE = /token: expected at least 16 characters, not all blank, got (1 character of white space|3 characters|20 characters of white space): make one with `openssl rand -hex 32`/

  it('refuses blank or short tokens in tokenAuth, createServer and serve, and listens on nothing', async () => {
    const engine = newEngine()
    for (const token of [' ', 'abc', ' '.repeat(20)]) {
      expect(() => tokenAuth({ token })).toThrow(ValidationError)
      expect(() => tokenAuth({ token })).toThrow(MESSAGE)
      expect(() => createServer(engine, { token })).toThrow(MESSAGE)
      await expect(serve(engine, { host: '0.0.0.0', port: 0, token })).rejects.toThrow(MESSAGE)
      await expect(serve(engine, { port: 0, token })).rejects.toThrow(ValidationError)
    }
  })

  it('still reads an empty token as no token', async () => {
    const engine = newEngine()
    const { port } = await started(engine, { token: '' })
    expect((await raw(port, 'GET', '/api/tasks', { host: `127.0.0.1:${port}` })).status).toBe(200)
    expect(tokenAuth({ token: '' })(new Request('http://localhost/'))).toEqual({ id: 'local', permissions: ['*'], kind: 'anonymous' })
    await expect(serve(engine, { host: '0.0.0.0', port: 0, token: '' })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without a token/)
  })
})

describe('request bodies', () => {
  it('refuses a JSON body that is not valid UTF-8 (400 naming it), and stores nothing', async () => {
    const engine = newEngine()
    const { port } = await started(engine)
    // "name":"a\xff\xfeb" — bytes no UTF-8 text contains; decoded leniently they became U+FFFD and were stored.
    const bytes = Buffer.concat([Buffer.from('{"task":"hello","args":{"name":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}}')])
    const answer = await raw(port, 'POST', '/api/runs', { host: `127.0.0.1:${port}`, 'content-type': 'application/json' }, bytes)
    expect(answer.status).toBe(400)
    expect(answer.body.error).toEqual({ code: 'ERR_MALFORMED_JSON', message: 'malformed JSON body: not valid UTF-8 text (JSON bodies must be UTF-8)' })
    expect((await engine.listRuns({})).total).toBe(0)
    // Real UTF-8 is kept as sent.
    const good = await raw(port, 'POST', '/api/runs', { host: `127.0.0.1:${port}`, 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ task: 'hello', args: { name: 'Zoë 🚀' } }), 'utf8'))
    expect(good.status).toBe(201)
    expect(good.body.args).toEqual({ name: 'Zoë 🚀' })
  })
})
