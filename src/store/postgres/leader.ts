/**
 * Leadership of maintenance by advisory lock: the process whose `pg_try_advisory_lock` (keyed by
 * the schema) succeeds leads, on a connection it keeps; each maintenance tick checks that
 * connection with `SELECT 1`. When that process or connection dies, the lock goes with it and the
 * next process to ask takes over.
 */
import type pg from 'pg'
import { coerceError } from '../../errors.js'
import type { PostgresConnection } from './connection.js'

/** First key of the maintenance leader lock (`'lead'` in ASCII); the second is a hash of the schema name. */
const LEADER_LOCK_CLASS = 0x6c656164

/** One store's bid for leadership. */
export class Leadership {
  readonly #conn: PostgresConnection
  /** The connection holding the lock while this process leads. */
  #leader: pg.PoolClient | undefined
  #leading: Promise<boolean> | undefined

  constructor(conn: PostgresConnection) {
    this.#conn = conn
  }

  /** Whether this process leads now (taking the lock when free). */
  lead(): Promise<boolean> {
    // Callers at the same moment share one answer (and one query on the leader's connection).
    this.#leading ??= this.#lead().finally(() => (this.#leading = undefined))
    return this.#leading
  }

  async #lead(): Promise<boolean> {
    if (this.#conn.closed) return false
    const held = this.#leader
    if (held !== undefined) {
      // The lock lives as long as its connection: make sure that is still there.
      try {
        await held.query('SELECT 1')
        return true
      } catch (error) {
        if (this.#leader === held) {
          this.#leader = undefined
          held.release(true)
        }
        this.#conn.onError(new Error(`maintenance leadership lost: ${coerceError(error).message}`, { cause: error }))
      }
    }
    await this.#conn.db()
    const client = await this.#conn.pool.connect()
    const onError = (error: Error): void => {
      // The lock went with the connection; another process may lead now.
      if (this.#leader !== client) return
      this.#leader = undefined
      client.release(true)
      this.#conn.onError(new Error(`maintenance leadership lost: ${error.message}`, { cause: error }))
    }
    client.on('error', onError)
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::int4, hashtext($2)) AS locked', [LEADER_LOCK_CLASS, this.#conn.schema])
      if (rows[0]?.locked === true && !this.#conn.closed) {
        this.#leader = client
        return true
      }
      client.off('error', onError)
      client.release()
      return false
    } catch (error) {
      client.off('error', onError)
      client.release(true)
      throw error
    }
  }

  /** Lets go of the lead: ending the connection releases the lock, so another process takes over at once. */
  release(): void {
    const leader = this.#leader
    this.#leader = undefined
    leader?.release(true)
  }
}
