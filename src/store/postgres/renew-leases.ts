/** Heartbeats: a worker extends the leases it holds and hears of cancel requests and lost runs, in one statement. */
import type { Lease, RenewOutcome } from '../contract/queue.js'
import type { PostgresConnection } from './connection.js'
import { byId, keyOf, lastPerKey } from './write-order.js'

/** Renews `leases` until `leaseUntil`. */
export async function renewLeases(conn: PostgresConnection, leases: readonly Lease[], leaseUntil: number): Promise<RenewOutcome> {
  const cancelRequested: { id: string; reason: string | null }[] = []
  const lost: string[] = []
  if (leases.length === 0) return { cancelRequested, lost }
  const db = await conn.db()
  const unique = lastPerKey(leases).sort(byId)
  const rows = await conn.query<{ id: string; token: string; cancel_requested_at: number | null; cancel_reason: string | null }>(
    db,
    `UPDATE ${conn.tables.runs} r SET lease_expires_at = $3
       FROM unnest($1::text[], $2::text[]) AS l(id, token)
       WHERE r.id = l.id AND r.lease_token = l.token AND r.status IN ('running', 'waiting')
       RETURNING l.id, l.token, r.cancel_requested_at, r.cancel_reason`,
    [unique.map((l) => l.id), unique.map((l) => l.token), leaseUntil],
  )
  const renewed = new Map(rows.map((row) => [keyOf(row), row]))
  for (const lease of leases) {
    const row = renewed.get(keyOf(lease))
    if (row === undefined) lost.push(lease.id)
    else if (row.cancel_requested_at !== null) cancelRequested.push({ id: lease.id, reason: row.cancel_reason })
  }
  return { cancelRequested, lost }
}
