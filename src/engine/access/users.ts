/**
 * The built-in users: people with a role (a set of permission codes) who sign in with a
 * password (scrypt) to a revocable session, and API tokens that act as a user. Everything is in
 * the store, so every process sharing it sees the same users, and a disabled user or a revoked
 * token or session stops working on the next request anywhere. Every change is audited.
 */
import { ConflictError, NotFoundError, ValidationError, describeValue } from '../../errors.js'
import type { SessionRecord, Store, UserRecord, UserTokenRecord } from '../../store/types.js'
import { USER_AGENT_MAX, type Actor, type Audit } from './audit.js'
import { DEFAULT_ROLES, checkRoles, type Permission, type Roles } from './permissions.js'
import { checkPassword, digest, hashPassword, newCredential, parseCredential, secretMatches, verifyPassword } from './secrets.js'

/** A user as shown: never a hash. */
export interface UserInfo {
  readonly name: string
  readonly role: string
  /** Whether the role is one of the configured roles (a user of a removed role holds no permission). */
  readonly roleKnown: boolean
  readonly hasPassword: boolean
  readonly disabledAt: Date | null
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly createdBy: string | null
}

/** An API token as shown: never its secret. */
export type TokenInfo = Omit<UserTokenRecord, 'hash'>

/** A session as shown. */
export type SessionInfo = Omit<SessionRecord, 'hash'>

/** Who a session or token authenticates. */
export interface Principal {
  readonly user: string
  readonly role: string
  readonly permissions: readonly (Permission | '*')[]
  /** The API token used, by name (`undefined` for a session). */
  readonly tokenName?: string
  /** The session's id (`undefined` for a token). */
  readonly sessionId?: string
}

/** How a sign-in went. */
export type SignIn =
  | { readonly ok: true; readonly cookie: string; readonly user: UserInfo; readonly expiresAt: Date }
  | { readonly ok: false; readonly reason: 'invalid' }
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfterMs: number }

/** Where a request comes from, for sessions and the audit trail. */
export interface Origin {
  readonly address?: string | null
  readonly userAgent?: string | null
  readonly via: string
}

/** Sign-in throttling: failed attempts counted over this window… */
const THROTTLE_WINDOW_MS = 15 * 60_000
/** …at most this many for one user from one address… */
export const MAX_FAILURES_PER_USER_ADDRESS = 5
/** …and this many from one address for any users. */
export const MAX_FAILURES_PER_ADDRESS = 20

/** Options of the built-in users (`createEngine({ users })`). */
export interface UsersOptions {
  /**
   * Role names and their permission codes.
   * @default { viewer: [read all], operator: [read all, tasks:run, runs:cancel, runs:retry, schedules:write], admin: ['*'] }
   */
  readonly roles?: Roles
  /**
   * A session ends after this long without a request, in ms.
   * @default 12 hours
   */
  readonly sessionIdleMs?: number
  /**
   * A session ends this long after sign-in whatever its use, in ms.
   * @default 7 days
   */
  readonly sessionMaxMs?: number
}

/** What {@link Users} needs from the engine. */
export interface UsersHost {
  readonly store: () => Promise<Store>
  readonly now: () => number
  readonly audit: Audit
  readonly options: UsersOptions
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/
/** Names that mean someone else in the audit trail. */
const RESERVED = new Set(['cli', 'api', 'token', 'local', 'system', 'anonymous', 'engine'])
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._:@-]{0,63}$/
const TOUCH_EVERY_MS = 60_000
const COUNT_CACHE_MS = 1000

/** The built-in users of an engine's store. */
export class Users {
  readonly roles: Roles
  readonly #host: UsersHost
  readonly #idleMs: number
  readonly #maxMs: number
  readonly #touched = new Map<string, number>()
  #count: { value: number; at: number } | undefined

  constructor(host: UsersHost) {
    this.#host = host
    this.roles = host.options.roles === undefined ? DEFAULT_ROLES : checkRoles(host.options.roles, 'users.roles')
    this.#idleMs = positive(host.options.sessionIdleMs, 'users.sessionIdleMs') ?? 12 * 3600_000
    this.#maxMs = positive(host.options.sessionMaxMs, 'users.sessionMaxMs') ?? 7 * 24 * 3600_000
  }

  /** The permission codes of a role (none for an unknown role). */
  permissionsOf(role: string): readonly (Permission | '*')[] {
    return Object.hasOwn(this.roles, role) ? this.roles[role]! : []
  }

  /** Adds a user. Throws a `ValidationError` for a bad name, unknown role or weak password, a `ConflictError` when the name is taken. */
  async add(name: string, options: { readonly role: string; readonly password?: string | undefined; readonly by: Actor }): Promise<UserInfo> {
    checkUserName(name)
    this.#checkRole(options.role)
    if (options.password !== undefined) checkPassword(options.password, name)
    const store = await this.#host.store()
    const passwordHash = options.password === undefined ? null : await hashPassword(options.password)
    if (!(await store.insertUser({ name, role: options.role, passwordHash, createdBy: options.by.id, now: this.#host.now() }))) {
      throw new ConflictError(`user "${name}" already exists`)
    }
    this.#count = undefined
    await this.#host.audit.record(options.by, { action: 'user.add', target: name, after: { role: options.role, password: passwordHash !== null } })
    return this.#info((await store.getUser(name))!)
  }

  /** Every user, by name. */
  async list(): Promise<UserInfo[]> {
    return (await (await this.#host.store()).listUsers()).map((u) => this.#info(u))
  }

  /** A user, or `undefined`. */
  async get(name: string): Promise<UserInfo | undefined> {
    const user = await (await this.#host.store()).getUser(name)
    return user === undefined ? undefined : this.#info(user)
  }

  /** Gives a user another role (takes effect on their next request). */
  async setRole(name: string, role: string, by: Actor): Promise<UserInfo> {
    this.#checkRole(role)
    const change = await this.#update(name, { role })
    await this.#host.audit.record(by, { action: 'user.role', target: name, before: { role: change.before.role }, after: { role } })
    return this.#info(change.after)
  }

  /** Sets a user's password; their sessions end (tokens stay). */
  async setPassword(name: string, password: string, by: Actor): Promise<void> {
    checkPassword(password, name)
    const passwordHash = await hashPassword(password)
    await this.#update(name, { passwordHash })
    const ended = await (await this.#host.store()).revokeSessions({ user: name }, this.#host.now())
    await this.#host.audit.record(by, { action: 'user.password', target: name, details: { sessionsEnded: ended } })
  }

  /** Disables a user: their sessions end and their tokens stop working at once (and work again when enabled). */
  async disable(name: string, by: Actor): Promise<UserInfo> {
    const change = await this.#update(name, { disabled: true })
    const ended = await (await this.#host.store()).revokeSessions({ user: name }, this.#host.now())
    this.#count = undefined
    await this.#host.audit.record(by, { action: 'user.disable', target: name, before: { disabled: change.before.disabledAt !== null }, after: { disabled: true }, details: { sessionsEnded: ended } })
    return this.#info(change.after)
  }

  /** Enables a disabled user. */
  async enable(name: string, by: Actor): Promise<UserInfo> {
    const change = await this.#update(name, { disabled: false })
    this.#count = undefined
    await this.#host.audit.record(by, { action: 'user.enable', target: name, before: { disabled: change.before.disabledAt !== null }, after: { disabled: false } })
    return this.#info(change.after)
  }

  /** How many users are enabled (cached for a second): with one or more, the server asks every caller for credentials. */
  async enabledCount(): Promise<number> {
    const now = Date.now()
    if (this.#count !== undefined && now - this.#count.at < COUNT_CACHE_MS) return this.#count.value
    const value = await (await this.#host.store()).countEnabledUsers()
    this.#count = { value, at: now }
    return value
  }

  /**
   * Makes an API token acting as `user`; returns its text, shown this once (the store keeps a
   * digest). Throws for an unknown user, a bad or taken name (among live tokens), a bad expiry.
   */
  async createToken(user: string, options: { readonly name: string; readonly expiresInMs?: number | undefined; readonly by: Actor }): Promise<{ readonly token: string; readonly info: TokenInfo }> {
    if (typeof options.name !== 'string' || !TOKEN_NAME.test(options.name)) throw new ValidationError(`token name: expected 1 to 64 letters, digits, spaces or . _ : @ - (starting with a letter or digit), got ${describeValue(options.name)}`)
    const expiresIn = positive(options.expiresInMs, 'expiresInMs')
    const store = await this.#host.store()
    if ((await store.getUser(user)) === undefined) throw new NotFoundError(`no user "${user}"`)
    const now = this.#host.now()
    const credential = newCredential('te')
    const ok = await store.insertUserToken({ id: credential.id, user, name: options.name, hash: digest(credential.secret), expiresAt: expiresIn === undefined ? null : now + expiresIn, createdBy: options.by.id, now })
    if (!ok) throw new ConflictError(`user "${user}" already has a live token named "${options.name}": revoke it first or pick another name`)
    const info = (await store.getUserToken(credential.id))!.credential
    await this.#host.audit.record(options.by, { action: 'token.create', target: `${user}/${options.name}`, after: { id: credential.id, expiresAt: info.expiresAt?.toISOString() ?? null } })
    return { token: credential.text, info: strip(info) }
  }

  /** Revokes a user's live token by name or id; it stops working on the next request. */
  async revokeToken(user: string, nameOrId: string, by: Actor): Promise<TokenInfo> {
    const store = await this.#host.store()
    const live = (await store.listUserTokens(user)).filter((t) => t.revokedAt === null)
    const token = live.find((t) => t.id === nameOrId) ?? live.find((t) => t.name === nameOrId)
    if (token === undefined) {
      if ((await store.getUser(user)) === undefined) throw new NotFoundError(`no user "${user}"`)
      throw new NotFoundError(`user "${user}" has no live token named or with id "${nameOrId}"`)
    }
    const after = (await store.revokeUserToken(token.id, this.#host.now()))!
    await this.#host.audit.record(by, { action: 'token.revoke', target: `${user}/${token.name}`, details: { id: token.id } })
    return strip(after)
  }

  /** Tokens (never their secrets), newest first: a user's or everyone's. */
  async tokens(user?: string): Promise<TokenInfo[]> {
    return (await (await this.#host.store()).listUserTokens(user)).map(strip)
  }

  /** Live sessions, newest first: a user's or everyone's. */
  async sessions(user?: string): Promise<SessionInfo[]> {
    return (await (await this.#host.store()).listSessions(user)).map(({ hash: _, ...rest }) => rest)
  }

  /** Ends every session of a user (or one session by id). */
  async endSessions(which: { readonly user: string } | { readonly id: string }, by: Actor): Promise<number> {
    const n = await (await this.#host.store()).revokeSessions(which, this.#host.now())
    await this.#host.audit.record(by, { action: 'session.revoke', target: 'user' in which ? which.user : which.id, details: { sessionsEnded: n } })
    return n
  }

  /**
   * Checks a user's password and starts a session. Failed attempts are recorded in the audit
   * trail (`login.failed`), and counted from there: five for one user from one address, or
   * twenty from one address, within 15 minutes, and sign-in answers `throttled` until they age
   * out. An unknown user, a disabled one and a wrong password answer alike, after the same work.
   */
  async signIn(name: string, password: string, origin: Origin): Promise<SignIn> {
    const store = await this.#host.store()
    const now = this.#host.now()
    const target = name.slice(0, 64)
    const since = now - THROTTLE_WINDOW_MS
    const address = origin.address ?? undefined
    const [forUser, forAddress] = await Promise.all([
      this.#host.audit.count({ action: 'login.failed', since, target, ...(address === undefined ? {} : { address }) }),
      address === undefined ? Promise.resolve(0) : this.#host.audit.count({ action: 'login.failed', since, address }),
    ])
    const actor: Actor = { id: target, kind: 'anonymous', via: origin.via, address: origin.address ?? null, userAgent: origin.userAgent ?? null }
    if (forUser >= MAX_FAILURES_PER_USER_ADDRESS || forAddress >= MAX_FAILURES_PER_ADDRESS) {
      await this.#host.audit.record(actor, { action: 'login.throttled', target })
      return { ok: false, reason: 'throttled', retryAfterMs: THROTTLE_WINDOW_MS }
    }
    const user = NAME.test(name) ? await store.getUser(name) : undefined
    const matches = await verifyPassword(password, user?.passwordHash ?? null)
    if (user === undefined || !matches || user.disabledAt !== null) {
      const why = user === undefined ? 'unknown user' : user.disabledAt !== null ? 'user disabled' : user.passwordHash === null ? 'no password set' : 'wrong password'
      await this.#host.audit.record(actor, { action: 'login.failed', target, details: { reason: why } })
      return { ok: false, reason: 'invalid' }
    }
    const credential = newCredential('ses')
    const expiresAt = Math.min(now + this.#idleMs, now + this.#maxMs)
    await store.insertSession({ id: credential.id, user: name, hash: digest(credential.secret), expiresAt, address: origin.address ?? null, userAgent: origin.userAgent?.slice(0, USER_AGENT_MAX) ?? null, now })
    await this.#host.audit.record({ ...actor, id: name, kind: 'user' }, { action: 'login', target: name, details: { session: credential.id } })
    return { ok: true, cookie: credential.text, user: this.#info(user), expiresAt: new Date(expiresAt) }
  }

  /** Ends the session of a cookie (does nothing for an unknown or ended one). */
  async signOut(cookie: string, origin: Origin): Promise<void> {
    const parsed = parseCredential(cookie, 'ses')
    if (parsed === undefined) return
    const store = await this.#host.store()
    const found = await store.getSession(parsed.id)
    if (found === undefined || !secretMatches(parsed.secret, found.credential.hash)) return
    await store.revokeSessions({ id: parsed.id }, this.#host.now())
    await this.#host.audit.record({ id: found.user.name, kind: 'user', via: origin.via, address: origin.address ?? null, userAgent: origin.userAgent ?? null }, { action: 'logout', target: found.user.name })
  }

  /** Who a session cookie authenticates, or `null` (unknown, wrong secret, expired, revoked, user disabled). Slides the session's expiry. */
  async fromSession(cookie: string): Promise<Principal | null> {
    const parsed = parseCredential(cookie, 'ses')
    if (parsed === undefined) return null
    const store = await this.#host.store()
    const found = await store.getSession(parsed.id)
    if (found === undefined || !secretMatches(parsed.secret, found.credential.hash)) return null
    const { credential: session, user } = found
    const now = this.#host.now()
    if (session.revokedAt !== null || session.expiresAt.getTime() <= now || user.disabledAt !== null) return null
    // Slide the expiry, writing at most once a minute (or a tenth of the idle time, when shorter).
    if (now - (this.#touched.get(session.id) ?? 0) >= Math.min(TOUCH_EVERY_MS, this.#idleMs / 10)) {
      this.#touched.set(session.id, now)
      if (this.#touched.size > 10_000) this.#touched.clear()
      await store.touchSession(session.id, now, Math.min(now + this.#idleMs, session.createdAt.getTime() + this.#maxMs))
    }
    return { user: user.name, role: user.role, permissions: this.permissionsOf(user.role), sessionId: session.id }
  }

  /** Who a user API token (`te_…`) authenticates, or `null` (unknown, wrong, expired, revoked, user disabled). */
  async fromToken(text: string): Promise<Principal | null> {
    const parsed = parseCredential(text, 'te')
    if (parsed === undefined) return null
    const store = await this.#host.store()
    const found = await store.getUserToken(parsed.id)
    if (found === undefined || !secretMatches(parsed.secret, found.credential.hash)) return null
    const { credential: token, user } = found
    const now = this.#host.now()
    if (token.revokedAt !== null || (token.expiresAt !== null && token.expiresAt.getTime() <= now) || user.disabledAt !== null) return null
    if (now - (this.#touched.get(token.id) ?? 0) >= TOUCH_EVERY_MS) {
      this.#touched.set(token.id, now)
      await store.touchUserToken(token.id, now)
    }
    return { user: user.name, role: user.role, permissions: this.permissionsOf(user.role), tokenName: token.name }
  }

  #checkRole(role: string): void {
    if (typeof role !== 'string' || !Object.hasOwn(this.roles, role)) throw new ValidationError(`role: unknown role ${describeValue(role)}; known: ${Object.keys(this.roles).join(', ')}`)
  }

  async #update(name: string, patch: Parameters<Store['updateUser']>[1]): Promise<{ before: UserRecord; after: UserRecord }> {
    const change = await (await this.#host.store()).updateUser(name, patch, this.#host.now())
    if (change === undefined) throw new NotFoundError(`no user "${name}"`)
    return change
  }

  #info(user: UserRecord): UserInfo {
    const { passwordHash, ...rest } = user
    return { ...rest, hasPassword: passwordHash !== null, roleKnown: Object.hasOwn(this.roles, user.role) }
  }
}

/** Throws a `ValidationError` for a user name that is not 1 to 64 letters, digits, `.`, `_`, `@`, `-`, or is reserved. */
export function checkUserName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) throw new ValidationError(`user name: expected 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit, got ${describeValue(name)}`)
  if (RESERVED.has(name.toLowerCase())) throw new ValidationError(`user name: "${name}" is reserved (the audit trail uses it for ${name.toLowerCase() === 'cli' ? 'the CLI' : 'callers without a user'})`)
}

function strip(token: UserTokenRecord): TokenInfo {
  const { hash: _, ...rest } = token
  return rest
}

function positive(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw new ValidationError(`${name}: expected a positive whole number of ms, got ${describeValue(value)}`)
  return value
}
