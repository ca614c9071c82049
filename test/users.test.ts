/**
 * The built-in users on a real SQLite file and on PostgreSQL: passwords (scrypt, policy, the
 * same answer for every wrong case), sign-in throttling counted from the audit trail, sessions
 * (sliding expiry, sign-out, ended by a password change or disabling), API tokens (shown once,
 * stored as a digest, revoked or expired or of a disabled user: refused at once, also by another
 * engine on the same store), roles, and an audit entry for every change.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createEngine, type Actor, type Engine } from '../src/index.js'
import type { Store } from '../src/store/types.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import { checkRoles } from '../src/engine/access/permissions.js'
import { checkPassword, hashPassword, parseCredential, verifyPassword } from '../src/engine/access/secrets.js'
import { MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_USER_ADDRESS } from '../src/engine/access/users.js'
import { describePostgres } from './helpers/postgres.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-users-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const engines: Engine[] = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close({ graceMs: 0 })))
})

const by: Actor = { id: 'cli', kind: 'cli', via: 'cli', address: 'root@test' }
const PASSWORD = 'correct horse battery'
const from = (address: string) => ({ address, userAgent: 'vitest', via: 'admin' })

describe('passwords', () => {
  it('hashes with scrypt and a salt, and verifies in constant time', async () => {
    const a = await hashPassword(PASSWORD)
    const b = await hashPassword(PASSWORD)
    expect(a).toMatch(/^scrypt\$32768\$8\$3\$[\w-]{22}\$[\w-]{43}$/)
    expect(a).not.toBe(b)
    expect(await verifyPassword(PASSWORD, a)).toBe(true)
    expect(await verifyPassword(`${PASSWORD}!`, a)).toBe(false)
    expect(await verifyPassword(PASSWORD, null)).toBe(false)
    expect(await verifyPassword(PASSWORD, 'md5$abc')).toBe(false)
  })

  it('refuses empty, short, repetitive, common and name-containing passwords, never echoing them', () => {
    const refused = (password: unknown, user = 'oncall') => {
      try {
        checkPassword(password, user)
        return 'accepted'
      } catch (error) {
        return (error as Error).message
      }
    }
    expect(refused('')).toBe('password: expected a password, got none')
    expect(refused(undefined)).toBe('password: expected a password, got none')
    expect(refused('short1!')).toBe('password: too short (7 characters); use at least 12, e.g. a few unrelated words')
    expect(refused('aaaaaaaaaaaaaaa')).toBe('password: too weak (fewer than 5 different characters)')
    expect(refused('abcdeabcdeabcde')).toBe('password: too weak (a common password or a repeated pattern)')
    expect(refused('Password!123456')).toBe('password: too weak (a common password or a repeated pattern)')
    expect(refused('my oncall secret')).toBe('password: must not contain the user name')
    expect(refused(PASSWORD)).toBe('accepted')
    expect(refused('hunter2hunter3x'.slice(0, 12))).toBe('accepted')
  })

  it('checks role maps: names and known permission codes', () => {
    expect(checkRoles({ viewer: ['runs:read'], admin: ['*'] })).toEqual({ viewer: ['runs:read'], admin: ['*'] })
    expect(() => checkRoles({ viewer: ['runs:reed'] })).toThrow(/roles\.viewer: unknown permission "runs:reed"/)
    expect(() => checkRoles({ 'Bad Name': [] })).toThrow(/role name "Bad Name" must be lowercase/)
    expect(() => checkRoles({})).toThrow(/at least one role/)
    expect(() => createEngine({ users: { roles: { ops: ['nope' as never] } } })).toThrow(/users\.roles\.ops: unknown permission "nope"/)
  })
})

/** The behaviour, on the store `open` makes; `second` opens another engine on the same store. */
function describeUsers(name: string, open: () => { store: () => Store; second: () => Store }) {
  describe(name, () => {
    const engineOn = (store: Store, clock?: () => number) => {
      const engine = createEngine({ store, ...(clock === undefined ? {} : { clock }), users: { roles: { viewer: ['runs:read'], operator: ['runs:read', 'runs:cancel'], admin: ['*'] }, sessionIdleMs: 60_000, sessionMaxMs: 300_000 } })
      engines.push(engine)
      return engine
    }

    it('adds users and refuses bad names, unknown roles, weak passwords and duplicates, changing nothing', async () => {
      const engine = engineOn(open().store())
      const user = await engine.users.add('oncall', { role: 'operator', password: PASSWORD, by })
      expect(user).toMatchObject({ name: 'oncall', role: 'operator', roleKnown: true, hasPassword: true, disabledAt: null, createdBy: 'cli' })
      expect(JSON.stringify(user)).not.toContain('scrypt')
      await expect(engine.users.add('oncall', { role: 'viewer', by })).rejects.toThrow('user "oncall" already exists')
      await expect(engine.users.add('bob', { role: 'root', password: PASSWORD, by })).rejects.toThrow('role: unknown role "root" (string); known: viewer, operator, admin')
      await expect(engine.users.add('bob', { role: 'viewer', password: 'short', by })).rejects.toThrow(/password: too short/)
      await expect(engine.users.add('bad name', { role: 'viewer', by })).rejects.toThrow(/user name: expected 1 to 64 letters/)
      await expect(engine.users.add('cli', { role: 'viewer', by })).rejects.toThrow('user name: "cli" is reserved (the audit trail uses it for the CLI)')
      expect((await engine.users.list()).map((u) => u.name)).toEqual(['oncall'])
      await expect(engine.users.setRole('oncall', 'root', by)).rejects.toThrow(/unknown role "root"/)
      await expect(engine.users.setRole('nobody', 'viewer', by)).rejects.toThrow('no user "nobody"')
      expect((await engine.users.get('oncall'))?.role).toBe('operator')
      const actions = (await engine.audit.list({ target: 'oncall' })).entries.map((e) => e.action)
      expect(actions).toEqual(['user.add'])
    })

    it('signs in with the right password only, answering every wrong case alike, and records each failure', async () => {
      const engine = engineOn(open().store())
      await engine.users.add('oncall', { role: 'operator', password: PASSWORD, by })
      await engine.users.add('gone', { role: 'viewer', password: PASSWORD, by })
      await engine.users.disable('gone', by)
      const ok = await engine.users.signIn('oncall', PASSWORD, from('10.0.0.1'))
      expect(ok.ok).toBe(true)
      const wrong = [await engine.users.signIn('oncall', 'wrong password here', from('10.0.0.1')), await engine.users.signIn('nobody', PASSWORD, from('10.0.0.1')), await engine.users.signIn('gone', PASSWORD, from('10.0.0.1'))]
      expect(wrong).toEqual([
        { ok: false, reason: 'invalid' },
        { ok: false, reason: 'invalid' },
        { ok: false, reason: 'invalid' },
      ])
      const failed = (await engine.audit.list({ action: 'login.failed' })).entries
      expect(failed.map((e) => [e.target, (e.details as { reason: string }).reason, e.address, e.actorKind])).toEqual([
        ['gone', 'user disabled', '10.0.0.1', 'anonymous'],
        ['nobody', 'unknown user', '10.0.0.1', 'anonymous'],
        ['oncall', 'wrong password', '10.0.0.1', 'anonymous'],
      ])
      expect((await engine.audit.list({ action: 'login', actor: 'oncall' })).entries).toHaveLength(1)
    })

    it(`throttles sign-in after ${MAX_FAILURES_PER_USER_ADDRESS} failures for a user from an address, and ${MAX_FAILURES_PER_ADDRESS} from an address`, async () => {
      let now = Date.UTC(2026, 11, 6, 12)
      const engine = engineOn(open().store(), () => now)
      await engine.users.add('oncall', { role: 'operator', password: PASSWORD, by })
      for (let i = 0; i < MAX_FAILURES_PER_USER_ADDRESS; i++) expect((await engine.users.signIn('oncall', `wrong password ${i}`, from('10.0.0.9'))).ok).toBe(false)
      // Even the right password waits now, from that address; another address is not held back.
      expect(await engine.users.signIn('oncall', PASSWORD, from('10.0.0.9'))).toEqual({ ok: false, reason: 'throttled', retryAfterMs: 15 * 60_000 })
      expect((await engine.users.signIn('oncall', PASSWORD, from('10.0.0.10'))).ok).toBe(true)
      expect((await engine.audit.list({ action: 'login.throttled' })).entries.map((e) => e.address)).toEqual(['10.0.0.9'])
      // After the window, it may try again.
      now += 15 * 60_000 + 1
      expect((await engine.users.signIn('oncall', PASSWORD, from('10.0.0.9'))).ok).toBe(true)
      // Many users guessed from one address: the address is held back for all of them.
      for (let i = 0; i < MAX_FAILURES_PER_ADDRESS; i++) await engine.users.signIn(`guess${i}`, 'wrong password here', from('10.6.6.6'))
      expect(await engine.users.signIn('oncall', PASSWORD, from('10.6.6.6'))).toMatchObject({ ok: false, reason: 'throttled' })
    }, 120_000)

    it('keeps sessions until sign-out, expiry, a password change or disabling ends them', async () => {
      let now = Date.UTC(2026, 11, 6, 12)
      const engine = engineOn(open().store(), () => now)
      await engine.users.add('oncall', { role: 'operator', password: PASSWORD, by })
      const signIn = async () => {
        const outcome = await engine.users.signIn('oncall', PASSWORD, from('127.0.0.1'))
        if (!outcome.ok) throw new Error('sign-in failed')
        return outcome.cookie
      }
      const cookie = await signIn()
      expect(cookie).toMatch(/^ses_[0-9a-f]{16}_[\w-]{43}$/)
      expect(await engine.users.fromSession(cookie)).toMatchObject({ user: 'oncall', role: 'operator', permissions: ['runs:read', 'runs:cancel'] })
      // A forged secret for a real id is refused.
      expect(await engine.users.fromSession(cookie.slice(0, -4) + 'AAAA')).toBeNull()
      // Sliding: used within the idle time it lives on; idle longer, it ends.
      now += 50_000
      expect(await engine.users.fromSession(cookie)).not.toBeNull()
      now += 59_000
      expect(await engine.users.fromSession(cookie)).not.toBeNull()
      now += 61_000
      expect(await engine.users.fromSession(cookie)).toBeNull()
      const second = await signIn()
      await engine.users.signOut(second, from('127.0.0.1'))
      expect(await engine.users.fromSession(second)).toBeNull()
      const third = await signIn()
      await engine.users.setPassword('oncall', 'another long secret', by)
      expect(await engine.users.fromSession(third)).toBeNull()
      const fourth = await engine.users.signIn('oncall', 'another long secret', from('127.0.0.1'))
      if (!fourth.ok) throw new Error('sign-in failed')
      await engine.users.disable('oncall', by)
      expect(await engine.users.fromSession(fourth.cookie)).toBeNull()
      await engine.users.enable('oncall', by)
      // Enabling does not bring ended sessions back.
      expect(await engine.users.fromSession(fourth.cookie)).toBeNull()
      const actions = (await engine.audit.list({ target: 'oncall' })).entries.map((e) => e.action).reverse()
      expect(actions).toEqual(['user.add', 'login', 'login', 'logout', 'login', 'user.password', 'login', 'user.disable', 'user.enable'])
    })

    it('makes API tokens shown once and stored as a digest; revoked, expired or of a disabled user, they stop at once, for every engine on the store', async () => {
      let now = Date.UTC(2026, 11, 6, 12)
      const stores = open()
      const engine = engineOn(stores.store(), () => now)
      const other = engineOn(stores.second(), () => now)
      await engine.users.add('ci', { role: 'operator', by })
      const { token, info } = await engine.users.createToken('ci', { name: 'deploy', by })
      expect(token).toMatch(/^te_[0-9a-f]{16}_[\w-]{43}$/)
      expect(info).toMatchObject({ user: 'ci', name: 'deploy', revokedAt: null, expiresAt: null })
      expect(JSON.stringify(await engine.users.tokens())).not.toContain(parseCredential(token, 'te')!.secret)
      expect(await other.users.fromToken(token)).toMatchObject({ user: 'ci', tokenName: 'deploy', role: 'operator' })
      await expect(engine.users.createToken('ci', { name: 'deploy', by })).rejects.toThrow('user "ci" already has a live token named "deploy": revoke it first or pick another name')
      await expect(engine.users.createToken('nobody', { name: 'x', by })).rejects.toThrow('no user "nobody"')
      await expect(engine.users.createToken('ci', { name: '', by })).rejects.toThrow(/token name: expected 1 to 64/)
      await engine.users.revokeToken('ci', 'deploy', by)
      expect(await other.users.fromToken(token)).toBeNull()
      expect(await engine.users.fromToken(token)).toBeNull()
      await expect(engine.users.revokeToken('ci', 'deploy', by)).rejects.toThrow('user "ci" has no live token named or with id "deploy"')
      // The name is free again once revoked.
      const again = await engine.users.createToken('ci', { name: 'deploy', expiresInMs: 60_000, by })
      expect(await other.users.fromToken(again.token)).not.toBeNull()
      await other.users.disable('ci', by)
      expect(await engine.users.fromToken(again.token)).toBeNull()
      await other.users.enable('ci', by)
      expect(await engine.users.fromToken(again.token)).not.toBeNull()
      now += 60_001
      expect(await engine.users.fromToken(again.token)).toBeNull()
      const audit = (await engine.audit.list({ action: 'token.' })).entries.map((e) => [e.action, e.target])
      expect(audit).toEqual([
        ['token.create', 'ci/deploy'],
        ['token.revoke', 'ci/deploy'],
        ['token.create', 'ci/deploy'],
      ])
    })

    it('counts enabled users, so that a server knows to ask for credentials', async () => {
      const engine = engineOn(open().store())
      expect(await engine.users.enabledCount()).toBe(0)
      await engine.users.add('a', { role: 'viewer', by })
      await engine.users.add('b', { role: 'viewer', by })
      await engine.users.disable('b', by)
      expect(await engine.users.enabledCount()).toBe(1)
    })
  })
}

let files = 0
describeUsers('users on a SQLite file', () => {
  const file = join(dir, `users-${++files}.db`)
  return { store: () => sqliteStore(file), second: () => sqliteStore(file) }
})

await describePostgres('users on PostgreSQL', (kit) => {
  describeUsers('users', () => {
    const schema = kit.newSchema()
    return { store: () => kit.open({ schema }), second: () => kit.open({ schema }) }
  })
})
