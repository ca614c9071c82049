/**
 * Who is calling. `createServer` takes an `auth` resolver, `(request) => identity | null`; the
 * built-in one checks a bearer token when one is configured and lets everyone in otherwise
 * (the standalone server only allows that on loopback).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Engine } from '../engine/engine.js'
import { grants, type Permission } from '../engine/access/permissions.js'
import { isUserToken } from '../engine/access/secrets.js'
import { ValidationError } from '../errors.js'
import type { AuditActorKind } from '../store/types.js'
import { checkOptionKeys, optionKeys } from '../options.js'

export { PERMISSIONS, type Permission } from '../engine/access/permissions.js'
/** The caller. */
export interface Identity {
  /** Recorded as `createdBy` on runs the caller enqueues. */
  readonly id: string
  /** What the caller may do; `['*']` for everything. */
  readonly permissions: readonly (Permission | '*')[]
  /**
   * What kind of caller it is, for the audit trail: a signed-in `user`, a user's API `token`, the
   * `shared-token`, an `anonymous` loopback caller; a host resolver's identities are `host`.
   * @default 'host'
   */
  readonly kind?: AuditActorKind
  /** The user API token that authenticated the request, by name. */
  readonly tokenName?: string
  /** The sign-in session that authenticated the request. */
  readonly sessionId?: string
}

/** Resolves the caller of a request; `null` means not authenticated (401). */
export type AuthResolver = (request: Request) => Identity | null | Promise<Identity | null>

/** Whether the identity may do `permission`. */
export function can(identity: Identity, permission: Permission): boolean {
  return grants(identity.permissions, permission)
}

/** Who a caller with the right token is, by default ({@link TokenAuthOptions.identity}). */
export const DEFAULT_TOKEN_IDENTITY: Identity = Object.freeze({ id: 'token', permissions: Object.freeze(['*'] as const), kind: 'shared-token' })

/** Options of {@link tokenAuth}. */
export interface TokenAuthOptions {
  /**
   * The shared secret: at least 16 characters, not all blank (e.g. the output of
   * `openssl rand -hex 32`). `undefined` or `''` lets every caller in as `local`.
   * @default none
   */
  readonly token?: string | undefined
  /**
   * The identity of an authenticated caller.
   * @default { id: 'token', permissions: ['*'] }
   */
  readonly identity?: Identity
}

/** Every key of {@link TokenAuthOptions}. */
const TOKEN_AUTH_OPTION_KEYS = optionKeys<TokenAuthOptions>({ token: true, identity: true })

/** Where a token may come from: `Authorization: Bearer …`, the `taskengine_token` cookie, or `?access_token=` (WebSocket upgrades from browsers cannot set headers). */
export function requestToken(request: Request): string | undefined {
  const header = request.headers.get('authorization')
  if (header !== null) {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim())
    return match?.[1]?.trim()
  }
  const cookie = cookieOf(request, 'taskengine_token')
  if (cookie !== undefined) return cookie
  return new URL(request.url).searchParams.get('access_token') ?? undefined
}

/** The shortest token accepted: a token is a password that every request may try. */
const MIN_TOKEN_LENGTH = 16

/**
 * Whether a token is set: `undefined` and `''` mean none. Throws a `ValidationError` for a token
 * that is blank or shorter than 16 characters, which a guess or a stray space in a config file
 * would satisfy (the message says how long it was, never what it was).
 */
export function hasToken(token: string | undefined): token is string {
  if (token === undefined || token === '') return false
  if (token.trim() === '' || token.length < MIN_TOKEN_LENGTH) {
    throw new ValidationError(
      `token: expected at least ${MIN_TOKEN_LENGTH} characters, not all blank, got ${token.length} character${token.length === 1 ? '' : 's'}${token.trim() === '' ? ' of white space' : ''}: make one with \`openssl rand -hex 32\``,
    )
  }
  return true
}

/**
 * The built-in resolver: a shared bearer token, compared in constant time. Throws a
 * `ValidationError` for a blank token or one shorter than 16 characters.
 *
 * @example
 * createServer(engine, { auth: tokenAuth({ token: process.env.OPS_TOKEN, identity: { id: 'ops', permissions: ['runs:read'] } }) })
 */
export function tokenAuth(options: TokenAuthOptions = {}): AuthResolver {
  checkOptionKeys(options, TOKEN_AUTH_OPTION_KEYS, 'tokenAuth')
  const expected = hasToken(options.token) ? digest(options.token) : undefined
  const identity = options.identity ?? DEFAULT_TOKEN_IDENTITY
  return (request) => {
    if (expected === undefined) return ANONYMOUS
    const given = requestToken(request)
    if (given === undefined) return null
    // Compare fixed-length digests so neither the content nor the length of the token leaks through timing.
    return timingSafeEqual(digest(given), expected) ? identity : null
  }
}

/** The caller on an open loopback server (no token, no users): may do everything, recorded as `local` on runs and `api` in the audit trail. */
const ANONYMOUS: Identity = Object.freeze({ id: 'local', permissions: Object.freeze(['*'] as const), kind: 'anonymous' })

/** The cookie of a sign-in session. */
export const SESSION_COOKIE = 'taskengine_session'

/**
 * The server's own resolver when the host gives none: a sign-in session cookie or a user API
 * token (`te_…`) of the built-in users, else the shared `token`; a caller with none of these
 * is let in only while the server has no token and the store no enabled user (loopback use).
 * Sessions and tokens are read from the store on every request, so a revoked one or a
 * disabled user stops at once in every process.
 */
export function builtInAuth(engine: Engine, options: { readonly token?: string | undefined } = {}): AuthResolver {
  const shared = tokenAuth({ token: options.token })
  const tokenSet = hasToken(options.token)
  return async (request) => {
    const session = cookieOf(request, SESSION_COOKIE)
    if (session !== undefined) {
      const who = await engine.users.fromSession(session)
      if (who !== null) return { id: who.user, permissions: who.permissions, kind: 'user', sessionId: who.sessionId! }
    }
    const given = requestToken(request)
    if (given !== undefined && isUserToken(given)) {
      const who = await engine.users.fromToken(given)
      if (who !== null) return { id: who.user, permissions: who.permissions, kind: 'token', tokenName: who.tokenName! }
    }
    if (tokenSet) return shared(request)
    // An open server (no token, no enabled user) lets every caller in, whatever it sends.
    return (await engine.users.enabledCount()) === 0 ? ANONYMOUS : null
  }
}

/** A cookie's value, or `undefined`. */
export function cookieOf(request: Request, name: string): string | undefined {
  const cookie = request.headers.get('cookie')
  if (cookie === null) return undefined
  for (const part of cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) {
      try {
        return decodeURIComponent(rest.join('='))
      } catch {
        return undefined
      }
    }
  }
  return undefined
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}
