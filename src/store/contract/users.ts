/**
 * The users role: people who sign in to the server (stored password hashes and roles), the API
 * tokens they hold, and their sign-in sessions. The engine hashes every secret before it gets
 * here: a store holds scrypt password hashes and SHA-256 digests of tokens and session secrets,
 * never a secret itself.
 */

/** A user as stored. */
export interface UserRecord {
  /** The user's name: what they sign in with, shown as who did what. Unique. */
  readonly name: string
  /** A role name of the server's role map (`viewer`, `operator`, `admin` or your own). */
  readonly role: string
  /** `scrypt$N$r$p$salt$hash` (base64url parts); `null` when no password is set (tokens only). */
  readonly passwordHash: string | null
  /** When the user was disabled (`null`: enabled). A disabled user's sessions and tokens stop working at once. */
  readonly disabledAt: Date | null
  readonly createdAt: Date
  readonly updatedAt: Date
  /** Who added the user (a user name, `cli`, …). */
  readonly createdBy: string | null
}

/** A user to store. */
export interface NewUser {
  readonly name: string
  readonly role: string
  readonly passwordHash: string | null
  readonly createdBy: string | null
  readonly now: number
}

/** What {@link UserStore.updateUser} changes; absent keys stay. */
export interface UserPatch {
  readonly role?: string
  readonly passwordHash?: string | null
  /** `true` sets `disabledAt` to now (when not already set); `false` clears it. */
  readonly disabled?: boolean
}

/** An API token of a user as stored. */
export interface UserTokenRecord {
  /** The token's public id (part of the token text, used to find it). */
  readonly id: string
  /** The user it acts as. */
  readonly user: string
  /** A name for people (`ci`); unique per user among tokens not revoked. */
  readonly name: string
  /** SHA-256 of the token's secret part, hex. */
  readonly hash: string
  readonly createdAt: Date
  /** When it stops working (`null`: never). */
  readonly expiresAt: Date | null
  /** Last time it authenticated a request (updated at most about once a minute). */
  readonly lastUsedAt: Date | null
  /** When it was revoked (`null`: live). */
  readonly revokedAt: Date | null
  readonly createdBy: string | null
}

/** A token to store. */
export interface NewUserToken {
  readonly id: string
  readonly user: string
  readonly name: string
  readonly hash: string
  readonly expiresAt: number | null
  readonly createdBy: string | null
  readonly now: number
}

/** A sign-in session as stored. */
export interface SessionRecord {
  /** The session's public id (part of the cookie). */
  readonly id: string
  readonly user: string
  /** SHA-256 of the session's secret part, hex. */
  readonly hash: string
  readonly createdAt: Date
  /** When it ends unless used again (sliding; see {@link UserStore.touchSession}). */
  readonly expiresAt: Date
  readonly lastSeenAt: Date
  /** When it was revoked (signed out, user disabled, …; `null`: live). */
  readonly revokedAt: Date | null
  /** Where it signed in from. */
  readonly address: string | null
  readonly userAgent: string | null
}

/** A session to store. */
export interface NewSession {
  readonly id: string
  readonly user: string
  readonly hash: string
  readonly expiresAt: number
  readonly address: string | null
  readonly userAgent: string | null
  readonly now: number
}

/** A credential and its user, read in one query on every request. */
export interface Credential<T> {
  readonly credential: T
  readonly user: UserRecord
}

/** The users role. */
export interface UserStore {
  /** Stores a new user; `false` (and nothing changes) when the name is taken. */
  insertUser(user: NewUser): Promise<boolean>
  getUser(name: string): Promise<UserRecord | undefined>
  /** Every user, by name. */
  listUsers(): Promise<UserRecord[]>
  /** How many users are enabled (the server asks for credentials once there is one). */
  countEnabledUsers(): Promise<number>
  /** Changes a user; returns it as it was before and after, or `undefined` when there is no such user. */
  updateUser(name: string, patch: UserPatch, now: number): Promise<{ readonly before: UserRecord; readonly after: UserRecord } | undefined>
  /** Stores a token; `false` when the user has a live (not revoked) token of that name, or no such user. */
  insertUserToken(token: NewUserToken): Promise<boolean>
  /** A token with its user, revoked or not (the engine decides). */
  getUserToken(id: string): Promise<Credential<UserTokenRecord> | undefined>
  /** Tokens, newest first: a user's, or everyone's. */
  listUserTokens(user?: string): Promise<UserTokenRecord[]>
  /** Records a use of a token (`lastUsedAt`). */
  touchUserToken(id: string, now: number): Promise<void>
  /** Revokes a live token; returns it after, or `undefined` when unknown. Revoking twice keeps the first time. */
  revokeUserToken(id: string, now: number): Promise<UserTokenRecord | undefined>
  insertSession(session: NewSession): Promise<void>
  /** A session with its user, revoked or expired or not (the engine decides). */
  getSession(id: string): Promise<Credential<SessionRecord> | undefined>
  /** Records a use: `lastSeenAt = now`, `expiresAt` moved to `expiresAt` (sliding expiry), unless revoked. */
  touchSession(id: string, now: number, expiresAt: number): Promise<void>
  /** Revokes one session (`id`) or every live session of a user (`user`); returns how many. */
  revokeSessions(which: { readonly id: string } | { readonly user: string }, now: number): Promise<number>
  /** Live sessions of a user (or everyone's), newest first. */
  listSessions(user?: string): Promise<SessionRecord[]>
  /** Deletes sessions that expired or were revoked before `before`; returns how many. */
  purgeSessions(before: number): Promise<number>
}
