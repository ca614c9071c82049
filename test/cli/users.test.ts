/**
 * `taskengine users …` against a real SQLite file: passwords from stdin that sign in, refused
 * input that changes nothing, tokens printed alone that authenticate until revoked, roles from
 * the config file, and every change in the audit trail as done by `cli`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { VERSION } from '../../src/version.js'
import { FIXTURES, finished, runInProcess, startCli, waitForOutput } from '../helpers/cli.js'
import { parseCredential } from '../../src/engine/access/secrets.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-cli-users-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const children: ReturnType<typeof startCli>[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

const PASSWORD = 'correct horse battery'
const ORIGIN = { via: 'admin', address: '127.0.0.1' }

/** The CLI in this process on `store`, as $USER ada. */
function cli(store: string, args: readonly string[], stdin?: string): ReturnType<typeof runInProcess> {
  return runInProcess([...args, '--store', store], { env: { USER: 'ada' }, ...(stdin === undefined ? {} : { stdin }) })
}

/** Runs `fn` with an engine on the store file (default roles), closed after. */
async function withEngine<T>(store: string, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = createEngine({ store: sqliteStore(store) })
  try {
    return await fn(engine)
  } finally {
    await engine.close()
  }
}

describe('taskengine users', () => {
  it('adds a user with --password-stdin (through the real binary) who can sign in; the audit trail says cli did it', async () => {
    const store = join(dir, 'add.db')
    const child = startCli(['users', 'add', 'oncall', '--role', 'operator', '--password-stdin', '--store', store], { env: { USER: 'ada' } })
    child.stdin.end(`${PASSWORD}\nignored second line\n`)
    const result = await finished(child)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toBe('user oncall added: role operator, password set\n')
    expect(result.stdout).toBe('')
    await withEngine(store, async (engine) => {
      expect(await engine.users.signIn('oncall', PASSWORD, ORIGIN)).toMatchObject({ ok: true, user: { name: 'oncall', role: 'operator' } })
      expect(await engine.users.signIn('oncall', 'ignored second line', ORIGIN)).toMatchObject({ ok: false })
      const { entries } = await engine.audit.list({ action: 'user.add' })
      expect(entries).toMatchObject([{ actor: 'cli', actorKind: 'cli', via: 'cli', address: `ada@${hostname()}`, userAgent: `taskengine/${VERSION}`, target: 'oncall', after: { role: 'operator', password: true } }])
    })
    const list = await cli(store, ['users', 'list'])
    expect(list.stdout).toMatch(/^NAME\s+ROLE\s+STATE\s+PASSWORD\s+CREATED \(UTC\)\s+BY\noncall\s+operator\s+enabled\s+yes\s+\S+ \S+\s+cli\n$/)
    const json = JSON.parse((await cli(store, ['users', 'list', '--json'])).stdout) as { name: string; hasPassword: boolean }[]
    expect(json).toMatchObject([{ name: 'oncall', role: 'operator', hasPassword: true, disabledAt: null }])
    expect(JSON.stringify(json)).not.toContain('scrypt')
  })

  it('refuses bad input with one line on stderr and exit 2, storing and recording nothing', async () => {
    const store = join(dir, 'refuse.db')
    expect((await cli(store, ['users', 'add', 'oncall', '--role', 'operator', '--password-stdin'], `${PASSWORD}\n`)).code).toBe(0)
    const cases: [args: string[], stdin: string | undefined, message: string][] = [
      [['users', 'add', 'weak', '--role', 'viewer', '--password-stdin'], 'short\n', 'password: too short (5 characters); use at least 12'],
      [['users', 'add', 'weak', '--role', 'viewer', '--password-stdin'], 'aaaaaaaaaaaaaaaa\n', 'password: too weak'],
      [['users', 'add', 'weak', '--role', 'viewer', '--password-stdin'], '', 'password: expected a password, got none'],
      [['users', 'add', 'weak', '--role', 'viewer'], undefined, 'no terminal to ask for the password on: pass --password-stdin'],
      [['users', 'add', 'weak', '--role', 'root', '--no-password'], undefined, '--role: unknown role "root" (string); known: viewer, operator, admin'],
      [['users', 'add', 'oncall', '--role', 'viewer', '--no-password'], undefined, 'user "oncall" already exists'],
      [['users', 'add', 'cli', '--role', 'viewer', '--no-password'], undefined, 'user name: "cli" is reserved'],
      [['users', 'add', 'x y', '--role', 'viewer', '--no-password'], undefined, 'user name: expected 1 to 64 letters'],
      [['users', 'add', 'weak', '--role', 'viewer', '--no-password', '--password-stdin'], PASSWORD, 'give --password-stdin or --no-password, not both'],
      [['users', 'set-role', 'oncall', 'boss'], undefined, 'role: unknown role "boss"'],
      [['users', 'set-role', 'nobody', 'viewer'], undefined, 'no user "nobody"'],
      [['users', 'disable', 'nobody'], undefined, 'no user "nobody"'],
      [['users', 'password', 'oncall', '--password-stdin'], 'oncall-password-1\n', 'password: must not contain the user name'],
      [['users', 'password', 'nobody', '--password-stdin'], `${PASSWORD}\n`, 'no user "nobody"'],
      [['users', 'sessions', 'end', 'nobody'], undefined, 'no user "nobody"'],
      [['users', 'token', 'create', 'nobody', '--name', 'ci'], undefined, 'no user "nobody"'],
      [['users', 'token', 'create', 'oncall', '--name', 'ci', '--expires-in-days', '0'], undefined, '--expires-in-days: expected an integer from 1 to 36500, got "0"'],
      [['users', 'token', 'revoke', 'oncall', 'ci'], undefined, 'user "oncall" has no live token named or with id "ci"'],
    ]
    for (const [args, stdin, message] of cases) {
      const result = await cli(store, args, stdin)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr, args.join(' ')).toContain(`taskengine: ${message}`)
      expect(result.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1)
      expect(result.stdout, args.join(' ')).toBe('')
    }
    await withEngine(store, async (engine) => {
      expect((await engine.users.list()).map((u) => [u.name, u.role])).toEqual([['oncall', 'operator']])
      expect(await engine.users.tokens()).toEqual([])
      expect((await engine.audit.list()).entries.map((e) => e.action)).toEqual(['user.add'])
      expect(await engine.users.signIn('oncall', PASSWORD, ORIGIN)).toMatchObject({ ok: true })
    })
  })

  it('token create prints the token alone on stdout; it authenticates until revoked, and stops while the user is disabled', async () => {
    const store = join(dir, 'tokens.db')
    expect((await cli(store, ['users', 'add', 'deploy-bot', '--role', 'operator', '--no-password'])).stderr).toBe('user deploy-bot added: role operator, no password (API tokens only)\n')
    const created = await cli(store, ['users', 'token', 'create', 'deploy-bot', '--name', 'ci', '--expires-in-days', '90'])
    expect(created.code, created.stderr).toBe(0)
    expect(created.stdout).toMatch(/^te_[A-Za-z0-9_-]+\n$/)
    expect(created.stderr).toMatch(/^token "ci" for deploy-bot \(id \S+, expires \S+ \S+ UTC\): shown this once, store it now/)
    const token = created.stdout.trim()
    const again = await cli(store, ['users', 'token', 'create', 'deploy-bot', '--name', 'ci'])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('already has a live token named "ci"')

    await withEngine(store, async (engine) => {
      expect(await engine.users.fromToken(token)).toMatchObject({ user: 'deploy-bot', role: 'operator', tokenName: 'ci' })
      const [info] = await engine.users.tokens('deploy-bot')
      expect(info!.expiresAt!.getTime() - info!.createdAt.getTime()).toBe(90 * 24 * 3600_000)
    })
    const listed = await cli(store, ['users', 'token', 'list', 'deploy-bot'])
    expect(listed.stdout).toMatch(/^USER\s+NAME\s+ID\s+STATE.*\ndeploy-bot\s+ci\s+\S+\s+live\s/)
    expect(listed.stdout).not.toContain(parseCredential(token, 'te')!.secret)

    expect((await cli(store, ['users', 'disable', 'deploy-bot'])).stderr).toBe('user deploy-bot: disabled\n')
    await withEngine(store, async (engine) => expect(await engine.users.fromToken(token)).toBeNull())
    expect((await cli(store, ['users', 'enable', 'deploy-bot'])).stderr).toBe('user deploy-bot: enabled\n')
    await withEngine(store, async (engine) => expect(await engine.users.fromToken(token)).toMatchObject({ user: 'deploy-bot' }))

    expect((await cli(store, ['users', 'set-role', 'deploy-bot', 'viewer'])).stderr).toBe('user deploy-bot: role operator → viewer\n')
    await withEngine(store, async (engine) => expect(await engine.users.fromToken(token)).toMatchObject({ role: 'viewer' }))

    const revoked = await cli(store, ['users', 'token', 'revoke', 'deploy-bot', 'ci'])
    expect(revoked.code, revoked.stderr).toBe(0)
    expect(revoked.stderr).toMatch(/^token "ci" of deploy-bot \(id \S+\): revoked\n$/)
    await withEngine(store, async (engine) => {
      expect(await engine.users.fromToken(token)).toBeNull()
      const actions = (await engine.audit.list({ actor: 'cli' })).entries.map((e) => [e.action, e.target])
      expect(actions).toEqual([
        ['token.revoke', 'deploy-bot/ci'],
        ['user.role', 'deploy-bot'],
        ['user.enable', 'deploy-bot'],
        ['user.disable', 'deploy-bot'],
        ['token.create', 'deploy-bot/ci'],
        ['user.add', 'deploy-bot'],
      ])
    })
    expect((await cli(store, ['users', 'token', 'list'])).stdout).toMatch(/\ndeploy-bot\s+ci\s+\S+\s+revoked\s/)
  })

  it('password changes the password and ends sessions; sessions end ends them too', async () => {
    const store = join(dir, 'password.db')
    await cli(store, ['users', 'add', 'oncall', '--role', 'operator', '--password-stdin'], `${PASSWORD}\n`)
    const first = await withEngine(store, (engine) => engine.users.signIn('oncall', PASSWORD, ORIGIN))
    if (!first.ok) throw new Error('sign-in failed')
    const changed = await cli(store, ['users', 'password', 'oncall', '--password-stdin'], 'a different passphrase\n')
    expect(changed.code, changed.stderr).toBe(0)
    await withEngine(store, async (engine) => {
      expect(await engine.users.fromSession(first.cookie)).toBeNull()
      expect(await engine.users.signIn('oncall', PASSWORD, ORIGIN)).toMatchObject({ ok: false })
      expect(await engine.users.signIn('oncall', 'a different passphrase', ORIGIN)).toMatchObject({ ok: true })
    })
    const sessions = await cli(store, ['users', 'sessions', 'list', 'oncall'])
    expect(sessions.stdout).toMatch(/^ID\s+USER\s+SIGNED IN \(UTC\).*\n\S+\s+oncall\s/)
    const ended = await cli(store, ['users', 'sessions', 'end', 'oncall'])
    expect(ended.stderr).toBe('user oncall: 1 session ended\n')
    expect((await cli(store, ['users', 'sessions', 'list'])).stdout).toBe('no live sessions\n')
    await withEngine(store, async (engine) => {
      expect((await engine.audit.list({ actor: 'cli' })).entries.map((e) => e.action)).toEqual(['session.revoke', 'user.password', 'user.add'])
    })
  })

  it('takes its roles from the config file', async () => {
    const store = join(dir, 'roles.db')
    const tasks = join(FIXTURES, 'users-config.mjs')
    const added = await cli(store, ['users', 'add', 'night', '--role', 'oncall', '--no-password', '--tasks', tasks])
    expect(added.code, added.stderr).toBe(0)
    const refused = await cli(store, ['users', 'set-role', 'night', 'operator', '--tasks', tasks])
    expect(refused.stderr).toContain('role: unknown role "operator" (string); known: reader, oncall, admin')
    // Without the config the default roles apply, and the user's role is shown as unknown.
    expect((await cli(store, ['users', 'list'])).stdout).toMatch(/\nnight\s+oncall \(unknown role: no permissions\)\s+enabled/)
    expect((await cli(store, ['users', 'list', '--tasks', tasks])).stdout).toMatch(/\nnight\s+oncall\s+enabled/)
  })

  it('serve checks permissions with the config file\'s roles', async () => {
    const store = join(dir, 'serve.db')
    const tasks = join(FIXTURES, 'users-config.mjs')
    await cli(store, ['users', 'add', 'night', '--role', 'oncall', '--no-password', '--tasks', tasks])
    const token = (await cli(store, ['users', 'token', 'create', 'night', '--name', 'ci', '--tasks', tasks])).stdout.trim()
    const child = startCli(['serve', '--port', '0', '--tasks', tasks, '--store', store])
    children.push(child)
    const done = finished(child)
    let banner = ''
    child.stderr.on('data', (chunk: Buffer) => (banner += chunk.toString()))
    await waitForOutput(child.stderr, 'metrics')
    const url = /serving (http:\/\/127\.0\.0\.1:\d+)\/admin/.exec(banner)![1]!
    const auth = { authorization: `Bearer ${token}` }
    // oncall (from the config) reads runs but may not change settings.
    expect((await fetch(`${url}/api/runs`, { headers: auth })).status).toBe(200)
    expect((await fetch(`${url}/api/settings`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: '{"runRetentionDays":3}' })).status).toBe(403)
    child.kill('SIGTERM')
    expect((await done).code).toBe(0)
  })
})
