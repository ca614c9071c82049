/** Users, their API tokens and sign-in sessions (see `../contract/users.ts`). */
import type { Credential, NewSession, NewUser, NewUserToken, SessionRecord, UserPatch, UserRecord, UserTokenRecord } from '../contract/users.js'
import {
  SESSION_COLUMNS,
  TOKEN_COLUMNS,
  USER_COLUMNS,
  patchedUser,
  sessionWithUserSql,
  toSession,
  toSessionCredential,
  toTokenCredential,
  toUser,
  toUserToken,
  tokenWithUserSql,
  type JoinedUserRow,
  type SessionRow,
  type UserRow,
  type UserTokenRow,
} from '../sql/user-rows.js'
import type { SqliteConnection } from './connection.js'

export function insertUser(db: SqliteConnection, user: NewUser): boolean {
  const sql = `INSERT INTO users (name, role, password_hash, created_at, updated_at, created_by) VALUES (@name, @role, @passwordHash, @now, @now, @createdBy) ON CONFLICT (name) DO NOTHING`
  return db.stmt(sql).run({ name: user.name, role: user.role, passwordHash: user.passwordHash, now: user.now, createdBy: user.createdBy }).changes === 1
}

export function getUser(db: SqliteConnection, name: string): UserRecord | undefined {
  const row = db.stmt(`SELECT ${USER_COLUMNS} FROM users WHERE name = ?`).get(name) as UserRow | undefined
  return row === undefined ? undefined : toUser(row)
}

export function listUsers(db: SqliteConnection): UserRecord[] {
  return (db.stmt(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`).all() as UserRow[]).map(toUser)
}

export function countEnabledUsers(db: SqliteConnection): number {
  return (db.stmt(`SELECT count(*) AS n FROM users WHERE disabled_at IS NULL`).get() as { n: number }).n
}

export function updateUser(db: SqliteConnection, name: string, patch: UserPatch, now: number): { before: UserRecord; after: UserRecord } | undefined {
  return db.write(() => {
    const row = db.stmt(`SELECT ${USER_COLUMNS} FROM users WHERE name = ?`).get(name) as UserRow | undefined
    if (row === undefined) return undefined
    const next = patchedUser(row, patch, now)
    const after = db
      .stmt(`UPDATE users SET role = @role, password_hash = @passwordHash, disabled_at = @disabledAt, updated_at = @now WHERE name = @name RETURNING ${USER_COLUMNS}`)
      .get({ ...next, now, name }) as UserRow
    return { before: toUser(row), after: toUser(after) }
  })
}

// Unknown user: the SELECT yields no row. A live token of that name: the partial unique index
// conflicts and nothing is inserted. Any other failure (a duplicate id) throws.
const INSERT_TOKEN = `INSERT INTO user_tokens (id, user_name, name, hash, created_at, expires_at, created_by)
  SELECT @id, name, @name, @hash, @now, @expiresAt, @createdBy FROM users WHERE name = @user
  ON CONFLICT (user_name, name) WHERE revoked_at IS NULL DO NOTHING`

export function insertUserToken(db: SqliteConnection, token: NewUserToken): boolean {
  const params = { id: token.id, user: token.user, name: token.name, hash: token.hash, now: token.now, expiresAt: token.expiresAt, createdBy: token.createdBy }
  return db.stmt(INSERT_TOKEN).run(params).changes === 1
}

export function getUserToken(db: SqliteConnection, id: string): Credential<UserTokenRecord> | undefined {
  const row = db.stmt(tokenWithUserSql('user_tokens', 'users', '?')).get(id) as (UserTokenRow & JoinedUserRow) | undefined
  return row === undefined ? undefined : toTokenCredential(row)
}

export function listUserTokens(db: SqliteConnection, user?: string): UserTokenRecord[] {
  const rows =
    user === undefined
      ? db.stmt(`SELECT ${TOKEN_COLUMNS} FROM user_tokens ORDER BY created_at DESC, id DESC`).all()
      : db.stmt(`SELECT ${TOKEN_COLUMNS} FROM user_tokens WHERE user_name = ? ORDER BY created_at DESC, id DESC`).all(user)
  return (rows as UserTokenRow[]).map(toUserToken)
}

export function touchUserToken(db: SqliteConnection, id: string, now: number): void {
  db.stmt(`UPDATE user_tokens SET last_used_at = ? WHERE id = ?`).run(now, id)
}

export function revokeUserToken(db: SqliteConnection, id: string, now: number): UserTokenRecord | undefined {
  const row = db.stmt(`UPDATE user_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING ${TOKEN_COLUMNS}`).get(now, id) as UserTokenRow | undefined
  return row === undefined ? undefined : toUserToken(row)
}

export function insertSession(db: SqliteConnection, session: NewSession): void {
  db.stmt(
    `INSERT INTO sessions (id, user_name, hash, created_at, expires_at, last_seen_at, address, user_agent)
     VALUES (@id, @user, @hash, @now, @expiresAt, @now, @address, @userAgent)`,
  ).run({ id: session.id, user: session.user, hash: session.hash, now: session.now, expiresAt: session.expiresAt, address: session.address, userAgent: session.userAgent })
}

export function getSession(db: SqliteConnection, id: string): Credential<SessionRecord> | undefined {
  const row = db.stmt(sessionWithUserSql('sessions', 'users', '?')).get(id) as (SessionRow & JoinedUserRow) | undefined
  return row === undefined ? undefined : toSessionCredential(row)
}

export function touchSession(db: SqliteConnection, id: string, now: number, expiresAt: number): void {
  db.stmt(`UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id = ? AND revoked_at IS NULL`).run(now, expiresAt, id)
}

export function revokeSessions(db: SqliteConnection, which: { readonly id: string } | { readonly user: string }, now: number): number {
  if ('id' in which) return db.stmt(`UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`).run(now, which.id).changes
  return db.stmt(`UPDATE sessions SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL`).run(now, which.user).changes
}

export function listSessions(db: SqliteConnection, user?: string): SessionRecord[] {
  const rows =
    user === undefined
      ? db.stmt(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE revoked_at IS NULL ORDER BY created_at DESC, id DESC`).all()
      : db.stmt(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE user_name = ? AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`).all(user)
  return (rows as SessionRow[]).map(toSession)
}

export function purgeSessions(db: SqliteConnection, before: number): number {
  return db.stmt(`DELETE FROM sessions WHERE expires_at < @before OR revoked_at < @before`).run({ before }).changes
}
