/**
 * Rows of the `users`, `user_tokens` and `sessions` tables ↔ their records, and the column lists
 * both SQL backends select alike. A credential is read with its user in one statement (a join):
 * the user's columns come prefixed `u_` beside the credential's own.
 */
import type { Credential, SessionRecord, UserPatch, UserRecord, UserTokenRecord } from '../contract/users.js'
import { date, maybeDate } from './columns.js'

/** A row of `users` as a driver returns it. */
export interface UserRow {
  name: string
  role: string
  password_hash: string | null
  disabled_at: number | string | null
  created_at: number | string
  updated_at: number | string
  created_by: string | null
}

/** A row of `user_tokens` as a driver returns it. */
export interface UserTokenRow {
  id: string
  user_name: string
  name: string
  hash: string
  created_at: number | string
  expires_at: number | string | null
  last_used_at: number | string | null
  revoked_at: number | string | null
  created_by: string | null
}

/** A row of `sessions` as a driver returns it. */
export interface SessionRow {
  id: string
  user_name: string
  hash: string
  created_at: number | string
  expires_at: number | string
  last_seen_at: number | string
  revoked_at: number | string | null
  address: string | null
  user_agent: string | null
}

/** The user's columns of a credential joined with its user (`u_…`; the name is the credential's `user_name`). */
export interface JoinedUserRow {
  u_role: string
  u_password_hash: string | null
  u_disabled_at: number | string | null
  u_created_at: number | string
  u_updated_at: number | string
  u_created_by: string | null
}

/** The columns of a user, named (PostgreSQL prepares statements once). */
export const USER_COLUMNS = 'name, role, password_hash, disabled_at, created_at, updated_at, created_by'
/** The columns of a token. */
export const TOKEN_COLUMNS = 'id, user_name, name, hash, created_at, expires_at, last_used_at, revoked_at, created_by'
/** The columns of a session. */
export const SESSION_COLUMNS = 'id, user_name, hash, created_at, expires_at, last_seen_at, revoked_at, address, user_agent'
/** The user's columns of a join `… c JOIN users u ON u.name = c.user_name`, as {@link JoinedUserRow}. */
const JOINED_USER_COLUMNS = 'u.role AS u_role, u.password_hash AS u_password_hash, u.disabled_at AS u_disabled_at, u.created_at AS u_created_at, u.updated_at AS u_updated_at, u.created_by AS u_created_by'

/** Qualifies each column of a list with `alias.`. */
const qualified = (columns: string, alias: string): string =>
  columns
    .split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ')

/** Reads a token with its user in one statement: `id` is the token id's placeholder. */
export function tokenWithUserSql(tokens: string, users: string, id: string): string {
  return `SELECT ${qualified(TOKEN_COLUMNS, 't')}, ${JOINED_USER_COLUMNS} FROM ${tokens} t JOIN ${users} u ON u.name = t.user_name WHERE t.id = ${id}`
}

/** Reads a session with its user in one statement: `id` is the session id's placeholder. */
export function sessionWithUserSql(sessions: string, users: string, id: string): string {
  return `SELECT ${qualified(SESSION_COLUMNS, 's')}, ${JOINED_USER_COLUMNS} FROM ${sessions} s JOIN ${users} u ON u.name = s.user_name WHERE s.id = ${id}`
}

/** Maps a `users` row to a {@link UserRecord}. */
export function toUser(row: UserRow): UserRecord {
  return {
    name: row.name,
    role: row.role,
    passwordHash: row.password_hash,
    disabledAt: maybeDate(row.disabled_at),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
    createdBy: row.created_by,
  }
}

/** Maps a `user_tokens` row to a {@link UserTokenRecord}. */
export function toUserToken(row: UserTokenRow): UserTokenRecord {
  return {
    id: row.id,
    user: row.user_name,
    name: row.name,
    hash: row.hash,
    createdAt: date(row.created_at),
    expiresAt: maybeDate(row.expires_at),
    lastUsedAt: maybeDate(row.last_used_at),
    revokedAt: maybeDate(row.revoked_at),
    createdBy: row.created_by,
  }
}

/** Maps a `sessions` row to a {@link SessionRecord}. */
export function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    user: row.user_name,
    hash: row.hash,
    createdAt: date(row.created_at),
    expiresAt: date(row.expires_at),
    lastSeenAt: date(row.last_seen_at),
    revokedAt: maybeDate(row.revoked_at),
    address: row.address,
    userAgent: row.user_agent,
  }
}

/** The user of a joined credential row. */
function joinedUser(row: JoinedUserRow & { user_name: string }): UserRecord {
  return toUser({
    name: row.user_name,
    role: row.u_role,
    password_hash: row.u_password_hash,
    disabled_at: row.u_disabled_at,
    created_at: row.u_created_at,
    updated_at: row.u_updated_at,
    created_by: row.u_created_by,
  })
}

/** Maps a row of {@link tokenWithUserSql} to the token and its user. */
export function toTokenCredential(row: UserTokenRow & JoinedUserRow): Credential<UserTokenRecord> {
  return { credential: toUserToken(row), user: joinedUser(row) }
}

/** Maps a row of {@link sessionWithUserSql} to the session and its user. */
export function toSessionCredential(row: SessionRow & JoinedUserRow): Credential<SessionRecord> {
  return { credential: toSession(row), user: joinedUser(row) }
}

/** The values a user's row takes after `patch` (absent keys keep theirs; disabling twice keeps the first time). */
export function patchedUser(before: UserRow, patch: UserPatch, now: number): { readonly role: string; readonly passwordHash: string | null; readonly disabledAt: number | null } {
  const disabledAt = before.disabled_at === null ? null : Number(before.disabled_at)
  return {
    role: patch.role ?? before.role,
    passwordHash: patch.passwordHash === undefined ? before.password_hash : patch.passwordHash,
    disabledAt: patch.disabled === undefined ? disabledAt : patch.disabled ? (disabledAt ?? now) : null,
  }
}
