/**
 * What went wrong in the environment of a command — a port in use, a database that does not
 * exist, a server that does not answer — told as a {@link CliFailure}: what happened, in the
 * words of the option that chose it, and what to do. Errors it does not recognize are returned
 * unchanged (and reported as unexpected).
 */
import { TaskEngineError, coerceError } from '../errors.js'
import { CliFailure } from './io.js'

/** The option (and environment variable) that chose an address. */
export interface AddressSource {
  /** e.g. `--port`. */
  readonly option: string
  /** e.g. `TASKENGINE_PORT`. */
  readonly env?: string
}

/** Where a server tried to listen, and which options chose it. */
export interface ListenTarget {
  readonly host: string
  readonly port: number
  readonly portOption: AddressSource
  /** Absent when the host is fixed (the worker's metrics listen on 127.0.0.1). */
  readonly hostOption?: AddressSource
}

/** Explains why listening failed. */
export function listenFailure(error: unknown, { host, port, portOption: portSource, hostOption }: ListenTarget): Error {
  const e = coerceError(error)
  const portOption = named(portSource)
  const hostAdvice = hostOption === undefined ? 'listen on 127.0.0.1' : `check ${named(hostOption)}`
  switch (codeOf(e)) {
    case 'EADDRINUSE':
      return new CliFailure(`port ${port} on ${host} is already in use (another taskengine, or another program, listens there): choose another port with ${portOption}; 0 picks a free one`, { cause: e })
    case 'EACCES':
      return new CliFailure(`not allowed to listen on port ${port} of ${host}${port < 1024 ? ' (ports below 1024 need privileges)' : ''}: choose a port from 1024 up with ${portOption}`, { cause: e })
    case 'EADDRNOTAVAIL':
      return new CliFailure(`cannot listen on ${host}: no network interface of this machine has that address; ${hostAdvice}`, { cause: e })
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CliFailure(`cannot listen on ${host}: the host name does not resolve to an address; ${hostAdvice}`, { cause: e })
    default:
      return e
  }
}

/** Explains why a PostgreSQL store at `url` could not be opened; the URL is shown without its password. */
export function postgresFailure(error: unknown, url: string): Error {
  const e = coerceError(error)
  if (e instanceof TaskEngineError) return e
  const shown = withoutPassword(url)
  const database = databaseOf(url)
  const where = 'in --store (or TASKENGINE_STORE)'
  const cause = driverMessage(e)
  switch (codeOf(e)) {
    case '3D000':
      return new CliFailure(`the PostgreSQL database "${database}" does not exist (store ${shown}): check the database name ${where}, or create it (createdb ${database})`, { cause: e })
    case '28P01':
    case '28000':
      return new CliFailure(`PostgreSQL refused the login (store ${shown}): ${cause}. Check the user and password ${where}`, { cause: e })
    case '42501':
      return new CliFailure(`PostgreSQL denied access (store ${shown}): ${cause}. The user needs the right to create the store's schema and tables, or pick another schema with ?schema= ${where}`, { cause: e })
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ECONNRESET':
      return new CliFailure(`cannot connect to PostgreSQL (store ${shown}): ${cause}. Is the server running, and are the host and port ${where} right?`, { cause: e })
    default:
      // pg's own connect timeout (connectTimeoutMs) carries no code.
      if (/timeout/i.test(e.message)) return new CliFailure(`cannot connect to PostgreSQL (store ${shown}): no answer in time (${cause}). Is the server running, and are the host and port ${where} right?`, { cause: e })
      return new CliFailure(`cannot open the PostgreSQL store ${shown}: ${e.message}. Check the URL ${where}; run again with --debug for the stack`, { cause: e })
  }
}

/** Explains why a SQLite store file could not be opened. */
export function sqliteFailure(error: unknown, path: string): Error {
  const e = coerceError(error)
  if (e instanceof TaskEngineError) return e
  return new CliFailure(`cannot open the SQLite store ${path}: ${e.message}. --store (or TASKENGINE_STORE) must name a SQLite database file (created if missing) in a directory this user can write`, { cause: e })
}

/** A PostgreSQL URL with its password replaced by `***`. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@')
  }
}

function databaseOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.slice(1))
  } catch {
    return ''
  }
}

const named = ({ option, env }: AddressSource): string => (env === undefined ? option : `${option} (or ${env})`)

/** The first error code along the cause chain (an AggregateError's first error included). */
function codeOf(error: Error): string | undefined {
  const seen = new Set<unknown>()
  for (let e: unknown = error; typeof e === 'object' && e !== null && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e)
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    const first = (e as { errors?: unknown }).errors
    if (Array.isArray(first) && first.length > 0) return codeOf(coerceError(first[0]))
  }
  return undefined
}

/** The innermost cause's message: the driver's own words (an empty AggregateError gives its errors' words). */
function driverMessage(error: Error): string {
  let e = error
  const seen = new Set<Error>([e])
  while (e.cause instanceof Error && !seen.has(e.cause)) {
    e = e.cause
    seen.add(e)
  }
  const errors = (e as { errors?: unknown }).errors
  if (e.message === '' && Array.isArray(errors)) return errors.map((x) => coerceError(x).message).join('; ')
  return e.message
}
