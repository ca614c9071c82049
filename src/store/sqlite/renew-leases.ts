/** Heartbeats: a worker extends the leases it holds and hears of cancel requests and lost runs. */
import type { Lease, RenewOutcome } from '../contract/queue.js'
import type { SqliteConnection } from './connection.js'

const RENEW = `UPDATE runs SET lease_expires_at = ? WHERE id = ? AND lease_token = ? AND status IN ('running', 'waiting')
       RETURNING cancel_requested_at, cancel_reason`

/** Renews `leases` until `leaseUntil`, in one transaction. */
export function renewLeases(db: SqliteConnection, leases: readonly Lease[], leaseUntil: number): RenewOutcome {
  const cancelRequested: { id: string; reason: string | null }[] = []
  const lost: string[] = []
  if (leases.length === 0) return { cancelRequested, lost }
  const renew = db.stmt(RENEW)
  db.write(() => {
    for (const lease of leases) {
      const row = renew.get(leaseUntil, lease.id, lease.token) as { cancel_requested_at: number | null; cancel_reason: string | null } | undefined
      if (row === undefined) lost.push(lease.id)
      else if (row.cancel_requested_at !== null) cancelRequested.push({ id: lease.id, reason: row.cancel_reason })
    }
  })
  return { cancelRequested, lost }
}
