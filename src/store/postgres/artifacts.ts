/** Artifacts: stored fenced by the writer's lease token, read back with or without their bytes. */
import type { Artifact, ArtifactContent, ArtifactWrite } from '../contract/artifacts.js'
import { toArtifact, type ArtifactRow } from '../sql/artifact-rows.js'
import type { PostgresConnection } from './connection.js'

/** Stores or replaces an artifact while `token` holds its run; `false` when it does not. */
export async function putArtifact(conn: PostgresConnection, artifact: ArtifactWrite): Promise<boolean> {
  const db = await conn.db()
  const t = conn.tables
  // FOR SHARE waits for a rescue or completion racing this write and re-checks the token on
  // the row's newest version: a stale worker stores nothing.
  const rows = await conn.query(
    db,
    `INSERT INTO ${t.artifacts} (run_id, name, content_type, size, data, created_at)
       SELECT $1, $2, $3, $4, $5, $6 FROM ${t.runs} WHERE id = $1 AND lease_token = $7 FOR SHARE
       ON CONFLICT (run_id, name) DO UPDATE SET content_type = excluded.content_type, size = excluded.size, data = excluded.data, created_at = excluded.created_at
       RETURNING run_id`,
    [artifact.runId, artifact.name, artifact.contentType, artifact.data.length, artifact.data, artifact.now, artifact.token],
  )
  return rows.length > 0
}

/** An artifact with its bytes. */
export async function getArtifact(conn: PostgresConnection, runId: string, name: string): Promise<ArtifactContent | undefined> {
  const db = await conn.db()
  const [row] = await conn.query<ArtifactRow & { data: Buffer }>(db, `SELECT run_id, name, content_type, size, created_at, data FROM ${conn.tables.artifacts} WHERE run_id = $1 AND name = $2`, [runId, name])
  return row === undefined ? undefined : { ...toArtifact(row), data: row.data }
}

/** A run's artifacts, by name. */
export async function listArtifacts(conn: PostgresConnection, runId: string): Promise<Artifact[]> {
  const db = await conn.db()
  const rows = await conn.query<ArtifactRow>(db, `SELECT run_id, name, content_type, size, created_at FROM ${conn.tables.artifacts} WHERE run_id = $1 ORDER BY name`, [runId])
  return rows.map(toArtifact)
}
