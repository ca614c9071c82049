/** Artifacts: stored fenced by the writer's lease token, read back with or without their bytes. */
import type { Artifact, ArtifactContent, ArtifactWrite } from '../contract/artifacts.js'
import { toArtifact, type ArtifactRow } from '../sql/artifact-rows.js'
import type { SqliteConnection } from './connection.js'

/** Stores or replaces an artifact while `token` holds its run; `false` when it does not. */
export function putArtifact(db: SqliteConnection, artifact: ArtifactWrite): boolean {
  // One statement: the token check and the write happen under the same write lock.
  const changes = db
    .stmt(
      `INSERT INTO artifacts (run_id, name, content_type, size, data, created_at)
       SELECT @runId, @name, @contentType, @size, @data, @now WHERE EXISTS (SELECT 1 FROM runs WHERE id = @runId AND lease_token = @token)
       ON CONFLICT (run_id, name) DO UPDATE SET content_type = excluded.content_type, size = excluded.size, data = excluded.data, created_at = excluded.created_at`,
    )
    .run({ runId: artifact.runId, token: artifact.token, name: artifact.name, contentType: artifact.contentType, size: artifact.data.length, data: artifact.data, now: artifact.now }).changes
  return changes > 0
}

/** An artifact with its bytes. */
export function getArtifact(db: SqliteConnection, runId: string, name: string): ArtifactContent | undefined {
  const row = db.stmt('SELECT * FROM artifacts WHERE run_id = ? AND name = ?').get(runId, name) as (ArtifactRow & { data: Buffer }) | undefined
  return row === undefined ? undefined : { ...toArtifact(row), data: row.data }
}

/** A run's artifacts, by name. */
export function listArtifacts(db: SqliteConnection, runId: string): Artifact[] {
  const rows = db.stmt('SELECT run_id, name, content_type, size, created_at FROM artifacts WHERE run_id = ? ORDER BY name').all(runId) as ArtifactRow[]
  return rows.map(toArtifact)
}
