/** Rows of the `artifacts` table ↔ artifacts, for both SQL backends. */
import type { Artifact } from '../contract/artifacts.js'
import { date, num } from './columns.js'

/** A row of the `artifacts` table (without the bytes). */
export interface ArtifactRow {
  run_id: string
  name: string
  content_type: string
  size: number | string
  created_at: number | string
}

/** Maps an `artifacts` row to an {@link Artifact}. */
export function toArtifact(row: ArtifactRow): Artifact {
  return { runId: row.run_id, name: row.name, contentType: row.content_type, size: num(row.size), createdAt: date(row.created_at) }
}
