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
import type { PostgresConnection } from './connection.js'

export async function insertUser(conn: PostgresConnection, user: NewUser): Promise<boolean> {
  const db = await conn.db()
  const rows = await conn.query<{ name: string }>(
    db,
    `INSERT INTO ${conn.tables.users} (name, role, password_hash, created_at, updated_at, created_by) VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING name`,
    [user.name, user.role, user.passwordHash, user.now, user.createdBy],
  )
  return rows.length === 1
}

export async function getUser(conn: PostgresConnection, name: string): Promise<UserRecord | undefined> {
  const db = await conn.db()
  const [row] = await conn.query<UserRow>(db, `SELECT ${USER_COLUMNS} FROM ${conn.tables.users} WHERE name = $1`, [name])
  return row === undefined ? undefined : toUser(row)
}

export async function listUsers(conn: PostgresConnection): Promise<UserRecord[]> {
  const db = await conn.db()
  return (await conn.query<UserRow>(db, `SELECT ${USER_COLUMNS} FROM ${conn.tables.users} ORDER BY name`, [])).map(toUser)
}

export async function countEnabledUsers(conn: PostgresConnection): Promise<number> {
  const db = await conn.db()
  const [row] = await conn.query<{ n: number }>(db, `SELECT count(*) AS n FROM ${conn.tables.users} WHERE disabled_at IS NULL`, [])
  return Number(row?.n ?? 0)
}

export async function updateUser(conn: PostgresConnection, name: string, patch: UserPatch, now: number): Promise<{ before: UserRecord; after: UserRecord } | undefined> {
  await conn.db()
  return conn.transaction(async (client) => {
    // Locked until COMMIT: a concurrent update waits, then patches this one's result.
    const [row] = await conn.query<UserRow>(client, `SELECT ${USER_COLUMNS} FROM ${conn.tables.users} WHERE name = $1 FOR UPDATE`, [name])
    if (row === undefined) return undefined
    const next = patchedUser(row, patch, now)
    const [after] = await conn.query<UserRow>(
      client,
      `UPDATE ${conn.tables.users} SET role = $1, password_hash = $2, disabled_at = $3, updated_at = $4 WHERE name = $5 RETURNING ${USER_COLUMNS}`,
      [next.role, next.passwordHash, next.disabledAt, now, name],
    )
    return { before: toUser(row), after: toUser(after!) }
  })
}

export async function insertUserToken(conn: PostgresConnection, token: NewUserToken): Promise<boolean> {
  const db = await conn.db()
  // Unknown user: the SELECT yields no row. A live token of that name: the partial unique index
  // conflicts and nothing is inserted. Any other failure (a duplicate id) throws.
  const rows = await conn.query<{ id: string }>(
    db,
    `INSERT INTO ${conn.tables.userTokens} (id, user_name, name, hash, created_at, expires_at, created_by)
     SELECT $1, name, $2, $3, $4, $5, $6 FROM ${conn.tables.users} WHERE name = $7
     ON CONFLICT (user_name, name) WHERE revoked_at IS NULL DO NOTHING RETURNING id`,
    [token.id, token.name, token.hash, token.now, token.expiresAt, token.createdBy, token.user],
  )
  return rows.length === 1
}

export async function getUserToken(conn: PostgresConnection, id: string): Promise<Credential<UserTokenRecord> | undefined> {
  const db = await conn.db()
  const [row] = await conn.query<UserTokenRow & JoinedUserRow>(db, tokenWithUserSql(conn.tables.userTokens, conn.tables.users, '$1'), [id])
  return row === undefined ? undefined : toTokenCredential(row)
}

export async function listUserTokens(conn: PostgresConnection, user?: string): Promise<UserTokenRecord[]> {
  const db = await conn.db()
  const rows =
    user === undefined
      ? await conn.query<UserTokenRow>(db, `SELECT ${TOKEN_COLUMNS} FROM ${conn.tables.userTokens} ORDER BY created_at DESC, id DESC`, [])
      : await conn.query<UserTokenRow>(db, `SELECT ${TOKEN_COLUMNS} FROM ${conn.tables.userTokens} WHERE user_name = $1 ORDER BY created_at DESC, id DESC`, [user])
  return rows.map(toUserToken)
}

export async function touchUserToken(conn: PostgresConnection, id: string, now: number): Promise<void> {
  const db = await conn.db()
  await conn.query(db, `UPDATE ${conn.tables.userTokens} SET last_used_at = $1 WHERE id = $2`, [now, id])
}

export async function revokeUserToken(conn: PostgresConnection, id: string, now: number): Promise<UserTokenRecord | undefined> {
  const db = await conn.db()
  const [row] = await conn.query<UserTokenRow>(db, `UPDATE ${conn.tables.userTokens} SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2 RETURNING ${TOKEN_COLUMNS}`, [now, id])
  return row === undefined ? undefined : toUserToken(row)
}

export async function insertSession(conn: PostgresConnection, session: NewSession): Promise<void> {
  const db = await conn.db()
  await conn.query(
    db,
    `INSERT INTO ${conn.tables.sessions} (id, user_name, hash, created_at, expires_at, last_seen_at, address, user_agent) VALUES ($1, $2, $3, $4, $5, $4, $6, $7)`,
    [session.id, session.user, session.hash, session.now, session.expiresAt, session.address, session.userAgent],
  )
}

export async function getSession(conn: PostgresConnection, id: string): Promise<Credential<SessionRecord> | undefined> {
  const db = await conn.db()
  const [row] = await conn.query<SessionRow & JoinedUserRow>(db, sessionWithUserSql(conn.tables.sessions, conn.tables.users, '$1'), [id])
  return row === undefined ? undefined : toSessionCredential(row)
}

export async function touchSession(conn: PostgresConnection, id: string, now: number, expiresAt: number): Promise<void> {
  const db = await conn.db()
  await conn.query(db, `UPDATE ${conn.tables.sessions} SET last_seen_at = $1, expires_at = $2 WHERE id = $3 AND revoked_at IS NULL`, [now, expiresAt, id])
}

export async function revokeSessions(conn: PostgresConnection, which: { readonly id: string } | { readonly user: string }, now: number): Promise<number> {
  const db = await conn.db()
  const result =
    'id' in which
      ? await db.query(conn.named(`UPDATE ${conn.tables.sessions} SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, [now, which.id]))
      : await db.query(conn.named(`UPDATE ${conn.tables.sessions} SET revoked_at = $1 WHERE user_name = $2 AND revoked_at IS NULL`, [now, which.user]))
  return result.rowCount ?? 0
}

export async function listSessions(conn: PostgresConnection, user?: string): Promise<SessionRecord[]> {
  const db = await conn.db()
  const rows =
    user === undefined
      ? await conn.query<SessionRow>(db, `SELECT ${SESSION_COLUMNS} FROM ${conn.tables.sessions} WHERE revoked_at IS NULL ORDER BY created_at DESC, id DESC`, [])
      : await conn.query<SessionRow>(db, `SELECT ${SESSION_COLUMNS} FROM ${conn.tables.sessions} WHERE user_name = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`, [user])
  return rows.map(toSession)
}

export async function purgeSessions(conn: PostgresConnection, before: number): Promise<number> {
  const db = await conn.db()
  const result = await db.query(conn.named(`DELETE FROM ${conn.tables.sessions} WHERE expires_at < $1 OR revoked_at < $1`, [before]))
  return result.rowCount ?? 0
}
