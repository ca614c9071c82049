/** Numbered migrations, the same shape in every SQL backend. */

/**
 * One numbered migration. Applied in order, each once (recorded in `schema_migrations`). Never
 * edit a released migration: add the next number.
 */
export interface Migration {
  /** Its number, from 1, without gaps. */
  readonly version: number
  /** What it does, in a few words (stored beside the number). */
  readonly name: string
  /** The statements, run as one script (PostgreSQL: with `search_path` set to the store's schema, so it names tables without one). */
  readonly sql: string
}
