/**
 * Secrets of the built-in users: scrypt password hashes, and the text of API tokens and
 * session cookies (a public id to find the record plus a random secret the store only keeps a
 * SHA-256 digest of). All comparisons are constant-time.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import { ValidationError } from '../../errors.js'

/** scrypt cost: N = 2^15, r = 8, p = 3 (32 MiB per hash), one of OWASP's recommended settings. */
const COST = { N: 2 ** 15, r: 8, p: 3 } as const
const KEY_BYTES = 32
const SALT_BYTES = 16

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 }
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (error, key) => (error === null ? resolve(key) : reject(error))))
}

/** Hashes a password as `scrypt$N$r$p$salt$hash` (salt and hash base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const key = await derive(password, salt, COST)
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

/** A hash of no password, checked against when the user is unknown so that both cases take as long. */
let decoy: Promise<string> | undefined

/** Whether `password` matches `hash` (a `null` or malformed hash matches nothing, after the same work). */
export async function verifyPassword(password: string, hash: string | null): Promise<boolean> {
  const parts = hash?.split('$')
  if (hash === null || parts === undefined || parts.length !== 6 || parts[0] !== 'scrypt') {
    decoy ??= hashPassword(randomBytes(16).toString('hex'))
    await verifyPassword(password, await decoy)
    return false
  }
  const [, n, r, p, salt, expected] = parts as [string, string, string, string, string, string]
  const want = Buffer.from(expected, 'base64url')
  const got = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) })
  return got.length === want.length && timingSafeEqual(got, want)
}

const COMMON = new Set(['password', 'passw0rd', 'qwerty', 'letmein', 'welcome', 'admin', 'changeme', 'iloveyou', 'taskengine', '123456', '1234567890', 'abc123', 'monkey', 'dragon', 'secret'])
/** The shortest password accepted. */
export const MIN_PASSWORD_LENGTH = 12
const MAX_PASSWORD_LENGTH = 1024

/**
 * Throws a `ValidationError` for a password that is empty, shorter than 12 characters, longer
 * than 1024, made of fewer than 5 distinct characters, the user's name, or a common password
 * with digits or punctuation around it. The message never repeats the password.
 */
export function checkPassword(password: unknown, user: string): asserts password is string {
  if (typeof password !== 'string' || password === '') throw new ValidationError('password: expected a password, got none')
  const chars = [...password]
  if (chars.length < MIN_PASSWORD_LENGTH) throw new ValidationError(`password: too short (${chars.length} characters); use at least ${MIN_PASSWORD_LENGTH}, e.g. a few unrelated words`)
  if (chars.length > MAX_PASSWORD_LENGTH) throw new ValidationError(`password: too long (${chars.length} characters); at most ${MAX_PASSWORD_LENGTH}`)
  if (new Set(chars).size < 5) throw new ValidationError('password: too weak (fewer than 5 different characters)')
  const bare = password.toLowerCase().replace(/[^a-z]/g, '')
  if (password.toLowerCase().includes(user.toLowerCase()) && user.length >= 3) throw new ValidationError('password: must not contain the user name')
  if (COMMON.has(bare) || /^(.+?)\1+$/.test(password)) throw new ValidationError('password: too weak (a common password or a repeated pattern)')
}

/** SHA-256 of a secret, hex: what the store keeps of tokens and session secrets. */
export function digest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

/** Whether `secret` hashes to `hash` (constant-time). */
export function secretMatches(secret: string, hash: string): boolean {
  const a = Buffer.from(digest(secret), 'hex')
  const b = Buffer.from(hash, 'hex')
  return a.length === b.length && timingSafeEqual(a, b)
}

/** A credential as text: `<prefix>_<id>_<secret>`. */
export interface CredentialText {
  readonly id: string
  readonly secret: string
  readonly text: string
}

/** A new random credential: an id of 16 hex characters and a 256-bit secret. */
export function newCredential(prefix: 'te' | 'ses'): CredentialText {
  const id = randomBytes(8).toString('hex')
  const secret = randomBytes(32).toString('base64url')
  return { id, secret, text: `${prefix}_${id}_${secret}` }
}

/** Reads a credential's id and secret, or `undefined` when the text is not one of `prefix`. */
export function parseCredential(text: string, prefix: 'te' | 'ses'): { id: string; secret: string } | undefined {
  const match = new RegExp(`^${prefix}_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$`).exec(text)
  return match === null ? undefined : { id: match[1]!, secret: match[2]! }
}

/** Whether a text looks like a user API token (`te_…`), as opposed to the shared server token. */
export function isUserToken(text: string): boolean {
  return parseCredential(text, 'te') !== undefined
}
