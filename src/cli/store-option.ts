/**
 * `--store`: a SQLite file path (default `./data/taskengine.db`) or a `postgres://` URL, whose
 * optional `schema` query parameter picks the schema (default `taskengine`).
 */
import { resolve } from 'node:path'
import { ValidationError } from '../errors.js'
import { sqliteStore } from '../store/sqlite/store.js'
import type { Store } from '../store/types.js'
import { postgresFailure, sqliteFailure } from './failures.js'

/** The default store file of the CLI and server, relative to the working directory. */
export const DEFAULT_STORE_FILE = './data/taskengine.db'
/** The default directory of the "files" log backend. */
export const DEFAULT_LOG_DIR = './data/logs'

/**
 * Opens the store a `--store` value names, migrated and ready. A store that cannot be opened
 * (no such database, no server, not a SQLite file) is a `CliFailure` saying why.
 */
export async function openStore(spec: string | undefined, cwd: string): Promise<Store> {
  const value = spec === undefined || spec === '' ? DEFAULT_STORE_FILE : spec
  if (/^postgres(ql)?:\/\//i.test(value)) {
    // Loaded only when asked for: SQLite users never load the PostgreSQL driver.
    const { postgresStore } = await import('../store/postgres/index.js')
    const { connectionString, schema } = splitSchema(value)
    const store = postgresStore(schema === undefined ? { connectionString } : { connectionString, schema })
    try {
      await store.ready()
    } catch (error) {
      await store.close().catch(() => undefined)
      throw postgresFailure(error, value)
    }
    return store
  }
  if (value.includes('://')) throw new ValidationError(`--store: expected a file path or a postgres:// URL, got "${value}"`)
  const path = value === ':memory:' ? value : resolve(cwd, value)
  let store: Store | undefined
  try {
    store = sqliteStore(path)
    await store.ready()
    return store
  } catch (error) {
    await store?.close().catch(() => undefined)
    throw sqliteFailure(error, path)
  }
}

/** A store description for messages (no credentials). */
export function describeStore(spec: string | undefined, cwd: string): string {
  const value = spec === undefined || spec === '' ? DEFAULT_STORE_FILE : spec
  if (/^postgres(ql)?:\/\//i.test(value)) {
    try {
      const url = new URL(value)
      const schema = url.searchParams.get('schema')
      return `postgres://${url.host}${url.pathname}${schema === null ? '' : ` (schema ${schema})`}`
    } catch {
      return 'postgres'
    }
  }
  return value === ':memory:' ? value : resolve(cwd, value)
}

/** Takes the `schema` parameter out of a PostgreSQL URL (the driver does not know it). */
function splitSchema(value: string): { connectionString: string; schema: string | undefined } {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ValidationError(`--store: not a valid URL: "${value.replace(/:[^:@/]*@/, ':***@')}"`)
  }
  const schema = url.searchParams.get('schema') ?? undefined
  url.searchParams.delete('schema')
  return { connectionString: url.toString(), schema }
}
