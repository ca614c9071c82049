/**
 * Who is calling. `createServer` takes an `auth` resolver, `(request) => identity | null`; the
 * built-in one checks a bearer token when one is configured and lets everyone in otherwise
 * (the standalone server only allows that on loopback).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { ValidationError } from '../errors.js'
import { checkOptionKeys, optionKeys } from '../options.js'

/** Permissions: `*` (everything) or any of these. */
export const PERMISSIONS = [
  'tasks:read',
  'tasks:run',
  'runs:read',
  'runs:read:own',
  'runs:write',
  'workers:read',
  'workers:write',
  'metrics:read',
  'schedules:read',
  'schedules:write',
  'settings:read',
  'settings:write',
] as const
export type Permission = (typeof PERMISSIONS)[number]

/** The caller. */
export interface Identity {
  /** Recorded as `createdBy` on runs the caller enqueues. */
  readonly id: string
  /** What the caller may do; `['*']` for everything. */
  readonly permissions: readonly (Permission | '*')[]
}

/** Resolves the caller of a request; `null` means not authenticated (401). */
export type AuthResolver = (request: Request) => Identity | null | Promise<Identity | null>

/** Whether the identity may do `permission`. */
export function can(identity: Identity, permission: Permission): boolean {
  return identity.permissions.includes('*') || identity.permissions.includes(permission)
}

/** Who a caller with the right token is, by default ({@link TokenAuthOptions.identity}). */
export const DEFAULT_TOKEN_IDENTITY: Identity = Object.freeze({ id: 'token', permissions: Object.freeze(['*'] as const) })

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
  const cookie = request.headers.get('cookie')
  if (cookie !== null) {
    for (const part of cookie.split(';')) {
      const [name, ...rest] = part.trim().split('=')
      if (name === 'taskengine_token') return decodeURIComponent(rest.join('='))
    }
  }
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
  const local: Identity = { id: 'local', permissions: ['*'] }
  return (request) => {
    if (expected === undefined) return local
    const given = requestToken(request)
    if (given === undefined) return null
    // Compare fixed-length digests so neither the content nor the length of the token leaks through timing.
    return timingSafeEqual(digest(given), expected) ? identity : null
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}
