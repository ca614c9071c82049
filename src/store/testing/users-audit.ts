/**
 * Users, their API tokens and sessions, and the audit trail: duplicates and unknown names refused
 * without a throw, credentials read with their user's current state, first revoke and disable
 * times kept, audit pages newest first by keyset with filters (prefixes taken literally), the
 * throttle's counts, and the purges' limits.
 */
import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../errors.js'
import type { NewAuditEntry } from '../contract/audit.js'
import type { NewSession, NewUserToken } from '../contract/users.js'
import { T0, testRunId } from './fixtures.js'
import type { SuiteContext } from './suite.js'

const HOUR = 3_600_000

/** A user `name` made at {@link T0} by `cli`. */
const user = (name: string, role = 'operator') => ({ name, role, passwordHash: `scrypt$hash-of-${name}`, createdBy: 'cli', now: T0 })

/** A token `name` of `owner`, made at `now` (default {@link T0}), never expiring. */
function token(owner: string, name: string, overrides: Partial<NewUserToken> = {}): NewUserToken {
  return { id: testRunId(), user: owner, name, hash: `sha256-${name}`, expiresAt: null, createdBy: owner, now: T0, ...overrides }
}

/** A session of `owner` made at `now` (default {@link T0}), ending an hour later. */
function session(owner: string, overrides: Partial<NewSession> = {}): NewSession {
  const now = overrides.now ?? T0
  return { id: testRunId(), user: owner, hash: 'sha256-secret', expiresAt: now + HOUR, address: '10.0.0.7', userAgent: 'Firefox', now, ...overrides }
}

/** An audit entry: `ann` cancelling run `r1` from the admin UI at {@link T0}, with no values. */
function entry(overrides: Partial<NewAuditEntry> = {}): NewAuditEntry {
  return { id: testRunId(), at: T0, actor: 'ann', actorKind: 'user', tokenName: null, via: 'admin', address: '10.0.0.7', userAgent: 'Firefox', action: 'run.cancel', target: 'r1', before: null, after: null, details: null, ...overrides }
}

/** Users, tokens and sessions; the audit trail. */
export function describeUsersAndAudit(suite: SuiteContext): void {
  describe('users, tokens and sessions', () => {
    it('stores users by unique name, lists them by name and counts the enabled ones', async () => {
      expect(await suite.store.countEnabledUsers()).toBe(0)
      expect(await suite.store.insertUser(user('bob', 'viewer'))).toBe(true)
      expect(await suite.store.insertUser({ ...user('ann', 'admin'), passwordHash: null, createdBy: null })).toBe(true)
      // A name taken: refused, and the stored user stays as it was.
      expect(await suite.store.insertUser({ ...user('bob', 'admin'), now: T0 + 1 })).toBe(false)
      expect(await suite.store.getUser('bob')).toEqual({ name: 'bob', role: 'viewer', passwordHash: 'scrypt$hash-of-bob', disabledAt: null, createdAt: new Date(T0), updatedAt: new Date(T0), createdBy: 'cli' })
      expect(await suite.store.getUser('nobody')).toBeUndefined()
      expect((await suite.store.listUsers()).map((u) => [u.name, u.role, u.passwordHash, u.createdBy])).toEqual([
        ['ann', 'admin', null, null],
        ['bob', 'viewer', 'scrypt$hash-of-bob', 'cli'],
      ])
      expect(await suite.store.countEnabledUsers()).toBe(2)
    })

    it('updates a user and returns it before and after; disabling twice keeps the first time', async () => {
      await suite.store.insertUser(user('ann'))
      const changed = await suite.store.updateUser('ann', { role: 'admin', passwordHash: null }, T0 + 1)
      expect(changed?.before).toMatchObject({ role: 'operator', passwordHash: 'scrypt$hash-of-ann', updatedAt: new Date(T0) })
      expect(changed?.after).toMatchObject({ role: 'admin', passwordHash: null, disabledAt: null, updatedAt: new Date(T0 + 1), createdAt: new Date(T0) })
      const disabled = await suite.store.updateUser('ann', { disabled: true }, T0 + 2)
      expect(disabled?.after).toMatchObject({ role: 'admin', passwordHash: null, disabledAt: new Date(T0 + 2) })
      expect(await suite.store.countEnabledUsers()).toBe(0)
      const again = await suite.store.updateUser('ann', { disabled: true, passwordHash: 'scrypt$new' }, T0 + 3)
      expect(again?.before.disabledAt).toEqual(new Date(T0 + 2))
      expect(again?.after).toMatchObject({ disabledAt: new Date(T0 + 2), passwordHash: 'scrypt$new', updatedAt: new Date(T0 + 3) })
      expect((await suite.store.updateUser('ann', { disabled: false }, T0 + 4))?.after).toMatchObject({ disabledAt: null, role: 'admin', passwordHash: 'scrypt$new' })
      expect(await suite.store.countEnabledUsers()).toBe(1)
      expect(await suite.store.getUser('ann')).toMatchObject({ disabledAt: null, updatedAt: new Date(T0 + 4) })
      expect(await suite.store.updateUser('nobody', { role: 'admin' }, T0)).toBeUndefined()
      expect(await suite.store.getUser('nobody')).toBeUndefined()
    })

    it('stores tokens under a name unique per user among live ones, refusing unknown users', async () => {
      await suite.store.insertUser(user('ann'))
      await suite.store.insertUser(user('bob'))
      const first = token('ann', 'ci')
      expect(await suite.store.insertUserToken(first)).toBe(true)
      expect(await suite.store.insertUserToken(token('ann', 'ci', { now: T0 + 1 }))).toBe(false)
      expect(await suite.store.insertUserToken(token('nobody', 'ci'))).toBe(false)
      expect(await suite.store.insertUserToken(token('bob', 'ci', { now: T0 + 2, expiresAt: T0 + HOUR }))).toBe(true)
      // Another failure than those is not hidden: an id used twice throws.
      await expect(suite.store.insertUserToken(token('ann', 'deploy', { id: first.id }))).rejects.toThrow()
      expect((await suite.store.listUserTokens()).map((t) => [t.user, t.name])).toEqual([
        ['bob', 'ci'],
        ['ann', 'ci'],
      ])
      expect(await suite.store.listUserTokens('nobody')).toEqual([])
      const [ann] = await suite.store.listUserTokens('ann')
      expect(ann).toEqual({ id: first.id, user: 'ann', name: 'ci', hash: 'sha256-ci', createdAt: new Date(T0), expiresAt: null, lastUsedAt: null, revokedAt: null, createdBy: 'ann' })
      // Revoked, the name is free again; revoking twice keeps the first time.
      expect(await suite.store.revokeUserToken(first.id, T0 + 5)).toMatchObject({ id: first.id, revokedAt: new Date(T0 + 5) })
      expect(await suite.store.revokeUserToken(first.id, T0 + 6)).toMatchObject({ revokedAt: new Date(T0 + 5) })
      expect(await suite.store.revokeUserToken('missing', T0 + 6)).toBeUndefined()
      const second = token('ann', 'ci', { now: T0 + 7 })
      expect(await suite.store.insertUserToken(second)).toBe(true)
      expect((await suite.store.listUserTokens('ann')).map((t) => [t.id, t.revokedAt])).toEqual([
        [second.id, null],
        [first.id, new Date(T0 + 5)],
      ])
    })

    it('reads a token with its user as the user is now, and records its use', async () => {
      await suite.store.insertUser(user('ann'))
      const ci = token('ann', 'ci', { expiresAt: T0 + HOUR })
      await suite.store.insertUserToken(ci)
      await suite.store.touchUserToken(ci.id, T0 + 60_000)
      const found = await suite.store.getUserToken(ci.id)
      expect(found?.credential).toMatchObject({ id: ci.id, user: 'ann', hash: 'sha256-ci', expiresAt: new Date(T0 + HOUR), lastUsedAt: new Date(T0 + 60_000) })
      expect(found?.user).toEqual(await suite.store.getUser('ann'))
      await suite.store.updateUser('ann', { disabled: true, role: 'viewer' }, T0 + 2)
      await suite.store.revokeUserToken(ci.id, T0 + 3)
      // Revoked tokens and disabled users are still read: the engine decides.
      expect(await suite.store.getUserToken(ci.id)).toMatchObject({ credential: { revokedAt: new Date(T0 + 3) }, user: { name: 'ann', role: 'viewer', disabledAt: new Date(T0 + 2) } })
      expect(await suite.store.getUserToken('missing')).toBeUndefined()
    })

    it('reads a session with its user, slides its expiry, and leaves a revoked one alone', async () => {
      await suite.store.insertUser(user('ann'))
      const s = session('ann')
      await suite.store.insertSession(s)
      expect(await suite.store.getSession(s.id)).toEqual({
        credential: { id: s.id, user: 'ann', hash: 'sha256-secret', createdAt: new Date(T0), expiresAt: new Date(T0 + HOUR), lastSeenAt: new Date(T0), revokedAt: null, address: '10.0.0.7', userAgent: 'Firefox' },
        user: await suite.store.getUser('ann'),
      })
      await suite.store.touchSession(s.id, T0 + 10, T0 + 10 + HOUR)
      expect((await suite.store.getSession(s.id))?.credential).toMatchObject({ lastSeenAt: new Date(T0 + 10), expiresAt: new Date(T0 + 10 + HOUR) })
      await suite.store.updateUser('ann', { disabled: true }, T0 + 15)
      expect((await suite.store.getSession(s.id))?.user.disabledAt).toEqual(new Date(T0 + 15))
      expect(await suite.store.revokeSessions({ id: s.id }, T0 + 20)).toBe(1)
      expect(await suite.store.revokeSessions({ id: s.id }, T0 + 21)).toBe(0)
      await suite.store.touchSession(s.id, T0 + 30, T0 + 30 + HOUR)
      expect((await suite.store.getSession(s.id))?.credential).toMatchObject({ revokedAt: new Date(T0 + 20), lastSeenAt: new Date(T0 + 10), expiresAt: new Date(T0 + 10 + HOUR) })
      expect(await suite.store.getSession('missing')).toBeUndefined()
      await expect(suite.store.insertSession(session('nobody'))).rejects.toThrow()
    })

    it("revokes a user's live sessions, lists live ones newest first, and purges ended ones", async () => {
      await suite.store.insertUser(user('ann'))
      await suite.store.insertUser(user('bob'))
      const a1 = session('ann')
      const a2 = session('ann', { now: T0 + 1 })
      const a3 = session('ann', { now: T0 + 2 })
      const b1 = session('bob', { now: T0 + 3, expiresAt: T0 + 50 })
      for (const s of [a1, a2, a3, b1]) await suite.store.insertSession(s)
      await suite.store.revokeSessions({ id: a1.id }, T0 + 10)
      expect((await suite.store.listSessions('ann')).map((s) => s.id)).toEqual([a3.id, a2.id])
      expect((await suite.store.listSessions()).map((s) => s.id)).toEqual([b1.id, a3.id, a2.id])
      // Only the live ones count; the first revoke keeps its time.
      expect(await suite.store.revokeSessions({ user: 'ann' }, T0 + 20)).toBe(2)
      expect(await suite.store.revokeSessions({ user: 'ann' }, T0 + 21)).toBe(0)
      expect(await suite.store.revokeSessions({ user: 'nobody' }, T0 + 21)).toBe(0)
      expect((await suite.store.getSession(a1.id))?.credential.revokedAt).toEqual(new Date(T0 + 10))
      expect(await suite.store.listSessions('ann')).toEqual([])
      // Before T0 + 15: a1 (revoked at T0 + 10). Before T0 + 60 also a2, a3 (revoked at T0 + 20)
      // and b1 (expired at T0 + 50).
      expect(await suite.store.purgeSessions(T0 + 15)).toBe(1)
      expect(await suite.store.getSession(a1.id)).toBeUndefined()
      expect(await suite.store.getSession(a2.id)).toBeDefined()
      const live = session('bob', { now: T0 + 40 })
      await suite.store.insertSession(live)
      expect(await suite.store.purgeSessions(T0 + 60)).toBe(3)
      expect((await suite.store.listSessions()).map((s) => s.id)).toEqual([live.id])
    })
  })

  describe('audit trail', () => {
    it('keeps entries exactly as appended, JSON values included, newest first', async () => {
      const first = entry({ before: { enabled: true }, after: { enabled: false }, details: { reason: 'x', n: [1, 2] } })
      const second = entry({ at: T0 + 1, actor: 'token', actorKind: 'shared-token', via: 'api', tokenName: 'ci', address: null, userAgent: null, action: 'schedule.toggle', target: null, before: '12', after: 12, details: [null] })
      await suite.store.appendAudit([first, second])
      await suite.store.appendAudit([])
      const page = await suite.store.listAudit({})
      expect(page).toEqual({
        entries: [
          { ...second, at: new Date(T0 + 1) },
          { ...first, at: new Date(T0) },
        ],
        next: null,
      })
    })

    it('appends a batch in one transaction: one bad entry writes none', async () => {
      const kept = entry()
      await suite.store.appendAudit([kept])
      await expect(suite.store.appendAudit([entry(), { ...entry(), id: kept.id }])).rejects.toThrow()
      expect((await suite.store.listAudit({})).entries.map((e) => e.id)).toEqual([kept.id])
    })

    it('filters by actor, action (or a prefix, taken literally), target and time', async () => {
      const at = (n: number): number => T0 + n * 1000
      const e = {
        cancel: entry({ at: at(0), action: 'run.cancel', target: 'r1' }),
        retry: entry({ at: at(1), action: 'run.retry', target: 'r2', actor: 'bob' }),
        runs: entry({ at: at(2), action: 'runs.purge', target: null }),
        under: entry({ at: at(3), action: 'a_b.c', target: 'r1' }),
        underLike: entry({ at: at(4), action: 'axb.c', target: 'r1', actor: 'bob' }),
        percent: entry({ at: at(5), action: 'p%.x', target: 'r3' }),
        percentLike: entry({ at: at(6), action: 'pq.x', target: 'r3' }),
      }
      await suite.store.appendAudit(Object.values(e))
      const ids = async (filter: Parameters<typeof suite.store.listAudit>[0]): Promise<string[]> => (await suite.store.listAudit(filter)).entries.map((x) => x.id)
      expect(await ids({ actor: 'bob' })).toEqual([e.underLike.id, e.retry.id])
      expect(await ids({ action: 'run.cancel' })).toEqual([e.cancel.id])
      expect(await ids({ action: 'run.' })).toEqual([e.retry.id, e.cancel.id])
      expect(await ids({ action: 'a_b.' })).toEqual([e.under.id])
      expect(await ids({ action: 'p%.' })).toEqual([e.percent.id])
      expect(await ids({ action: 'run' })).toEqual([])
      expect(await ids({ target: 'r1' })).toEqual([e.underLike.id, e.under.id, e.cancel.id])
      expect(await ids({ target: 'r1', actor: 'bob' })).toEqual([e.underLike.id])
      expect(await ids({ from: new Date(at(1)), to: new Date(at(3)) })).toEqual([e.runs.id, e.retry.id])
      expect(await ids({ from: new Date(at(3)), target: 'r1', action: 'a_b.c' })).toEqual([e.under.id])
      await expect(suite.store.listAudit({ from: new Date(NaN) })).rejects.toThrow(ValidationError)
    })

    it('pages newest first by id, with next while there may be more; 50 by default, at most 1000', async () => {
      const made = Array.from({ length: 1001 }, (_, i) => entry({ at: T0 + i }))
      await suite.store.appendAudit(made)
      const newest = [...made].reverse().map((x) => x.id)
      const first = await suite.store.listAudit({ limit: 2, target: 'r1' })
      expect(first).toMatchObject({ next: newest[1] })
      expect(first.entries.map((x) => x.id)).toEqual(newest.slice(0, 2))
      const second = await suite.store.listAudit({ limit: 2, before: first.next! })
      expect(second.entries.map((x) => x.id)).toEqual(newest.slice(2, 4))
      // The last entries exactly fill a page: no next.
      const last = await suite.store.listAudit({ limit: 3, before: newest[997]! })
      expect(last).toMatchObject({ next: null })
      expect(last.entries.map((x) => x.id)).toEqual(newest.slice(998))
      const byDefault = await suite.store.listAudit({})
      expect(byDefault.entries).toHaveLength(50)
      expect(byDefault.next).toBe(newest[49])
      const most = await suite.store.listAudit({ limit: 5000 })
      expect(most.entries).toHaveLength(1000)
      expect(most.next).toBe(newest[999])
    })

    it('counts recent entries of an action by target, by address, or both', async () => {
      const failed = (n: number, target: string, address: string): NewAuditEntry => entry({ at: T0 + n, action: 'login.failed', target, address, actor: 'api', actorKind: 'anonymous' })
      await suite.store.appendAudit([failed(0, 'ann', '10.0.0.1'), failed(10, 'ann', '10.0.0.2'), failed(20, 'bob', '10.0.0.2'), failed(30, 'ann', '10.0.0.2'), entry({ at: T0 + 40, action: 'login', target: 'ann', address: '10.0.0.2' })])
      expect(await suite.store.countAudit({ action: 'login.failed', since: T0, target: 'ann' })).toBe(3)
      expect(await suite.store.countAudit({ action: 'login.failed', since: T0 + 10, target: 'ann' })).toBe(2)
      expect(await suite.store.countAudit({ action: 'login.failed', since: T0, address: '10.0.0.2' })).toBe(3)
      expect(await suite.store.countAudit({ action: 'login.failed', since: T0 + 11, address: '10.0.0.2' })).toBe(2)
      expect(await suite.store.countAudit({ action: 'login.failed', since: T0, target: 'ann', address: '10.0.0.2' })).toBe(2)
      expect(await suite.store.countAudit({ action: 'login.failed', since: T0, target: 'carl' })).toBe(0)
      await expect(suite.store.countAudit({ action: 'login.failed', since: T0 })).rejects.toThrow(ValidationError)
    })

    it('purges entries older than a time, the oldest first, at most a limit', async () => {
      const made = Array.from({ length: 5 }, (_, i) => entry({ at: T0 + i * 10 }))
      // Appended out of time order: the purge goes by time.
      await suite.store.appendAudit([made[3]!, made[0]!, made[4]!, made[2]!, made[1]!])
      expect(await suite.store.purgeAudit(T0 + 35, 2)).toBe(2)
      expect((await suite.store.listAudit({})).entries.map((x) => x.at.getTime())).toEqual([T0 + 40, T0 + 30, T0 + 20])
      expect(await suite.store.purgeAudit(T0 + 35, 10)).toBe(2)
      expect(await suite.store.purgeAudit(T0 + 35, 10)).toBe(0)
      expect((await suite.store.listAudit({})).entries.map((x) => x.id)).toEqual([made[4]!.id])
    })
  })
}
