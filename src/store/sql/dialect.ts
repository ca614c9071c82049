/**
 * What differs between the SQL of the SQLite and the PostgreSQL store, as one small object per
 * backend, so that statements both send are written once (`run-filter.ts`, `delete-run.ts`,
 * `retry-run.ts`). The hot path (claims, batches, inserts) stays in each backend, written for it.
 */

/**
 * Collects the values of a statement built at run time and names their placeholders: SQLite
 * binds named parameters (`@p1`), PostgreSQL numbered ones (`$1`). A placeholder may be used more
 * than once.
 */
export interface Binder<P> {
  /** Adds a value; returns its placeholder. */
  bind(value: unknown): string
  /** The values bound so far, as the driver takes them. */
  snapshot(): P
}

/** A backend's SQL dialect. */
export interface SqlDialect {
  /** The `runs` table as statements name it (PostgreSQL: schema-qualified). */
  readonly runs: string
  /**
   * What a statement returning whole runs selects: `*`, or an explicit column list where
   * statements are prepared once and must not change result type when a migration adds a column.
   */
  readonly runColumns: string
  /** SQL appending a JSON object (text expression `value`) to the JSON array `attempts` without parsing the array. */
  appendAttempt(attempts: string, value: string): string
  /** The run's current attempt as a stored attempt object (SQL text), for when it must join the list. */
  readonly currentAttemptJson: string
  /** A parameter holding JSON text, as a JSON column takes it (PostgreSQL: cast to `json`). */
  json(placeholder: string): string
  /** `column` equals one of `values`. */
  oneOf(column: string, values: readonly string[], binder: Binder<unknown>): string
  /** The run's tags (a JSON array of strings) hold `tag`. */
  hasTag(tag: string, binder: Binder<unknown>): string
  /** Case-insensitive match of a `LIKE` pattern (escaped with `\`) against `column`. */
  like(column: string, pattern: string): string
  /** Runs older (by creation order) than the run `id`, which may no longer be stored. */
  olderThan(id: string, binder: Binder<unknown>): string
  /**
   * When `error` is a violation of a unique index, the index's name (`''` when the driver does
   * not say); otherwise `undefined`.
   */
  uniqueViolation(error: unknown): string | undefined
}
