/**
 * taskengine/store-testing — the conformance suite every store backend passes, for vitest.
 *
 * Run it from a test file of your backend; `open` gives a fresh, empty store for each test, and
 * the options declare which optional parts the backend has (the suite checks those work and the
 * others are absent):
 *
 * ```ts
 * import { describeStoreConformance } from 'taskengine/store-testing'
 * import { myStore } from '../src/my-store.js'
 *
 * describeStoreConformance('my store', async () => myStore({ url: process.env.MY_URL, namespace: crypto.randomUUID() }), {
 *   concurrentCalls: true,
 *   signals: true,
 *   leader: false,
 *   durable: () => {
 *     const namespace = crypto.randomUUID()
 *     return async () => myStore({ url: process.env.MY_URL, namespace })
 *   },
 * })
 * ```
 *
 * vitest is an optional peer dependency of taskengine: this module needs it, nothing else does.
 */
import { afterEach, beforeEach, describe } from 'vitest'
import type { Store } from '../types.js'
import { describeArtifacts } from './artifacts.js'
import { describeBulkJobs } from './bulk-jobs.js'
import { describeCancelRetryDelete } from './cancel-retry-delete.js'
import { describeClaims } from './claim.js'
import { describeDurablePlaces } from './durable.js'
import { describeEnqueueFlow } from './enqueue-flow.js'
import { describeTraceContext } from './trace-context.js'
import { describeFlowClaims } from './flow-claims.js'
import { describeInsertAndRead } from './insert-read.js'
import { describeInProcessRuns } from './in-process.js'
import { describeLeaderElection } from './leader.js'
import { describeLeasesAndRescue } from './leases.js'
import { describeOptionalParts } from './optional-parts.js'
import { describePools } from './pools.js'
import { describeRetention } from './retention.js'
import { describeRequestIds } from './request-ids.js'
import { describeRollups } from './rollups.js'
import { describeSchedules } from './schedules.js'
import { describeSettings } from './settings.js'
import { describeSignals } from './signals.js'
import { describeStats } from './stats.js'
import type { StoreConformanceOptions, SuiteContext } from './suite.js'
import { describeCallerTransactions } from './transactions.js'
import { describeUsersAndAudit } from './users-audit.js'
import { describeWorkers } from './workers.js'
import { describeWriteBatches } from './write-batch.js'

export type { CallerTransaction, StoreConformanceOptions } from './suite.js'
export { EMPTY_BATCH, T0, attempt, claimOne, claimRequest, completion, newRun, rescueExpired, rescueWrite, storesClosedAfterEach, testRunId } from './fixtures.js'
export type { RunRef } from './fixtures.js'

/**
 * Declares the conformance suite for a backend under `Store conformance: <name>`. Each test gets
 * a store from `open` (fresh and empty; the suite calls `ready()` before and `close()` after).
 */
export function describeStoreConformance(name: string, open: () => Promise<Store>, options: StoreConformanceOptions = {}): void {
  describe(`Store conformance: ${name}`, () => {
    let current: Store | undefined
    const suite: SuiteContext = {
      get store(): Store {
        if (current === undefined) throw new Error('the conformance suite has no store outside a test')
        return current
      },
      options,
    }

    beforeEach(async () => {
      current = await open()
      await current.ready()
    })

    afterEach(async () => {
      await current?.close()
      current = undefined
    })

    describeInsertAndRead(suite)
    describeClaims(suite)
    describeFlowClaims(suite)
    describeWriteBatches(suite)
    describeLeasesAndRescue(suite)
    describeInProcessRuns(suite)
    describeCancelRetryDelete(suite)
    describeArtifacts(suite)
    describePools(suite)
    describeStats(suite)
    describeWorkers(suite)
    describeSchedules(suite)
    describeSettings(suite)
    describeRetention(suite)
    describeRollups(suite)
    describeOptionalParts(suite)
    describeSignals(suite)
    describeLeaderElection(suite)
    describeCallerTransactions(suite)
    describeDurablePlaces(suite)
    describeEnqueueFlow(suite)
    describeTraceContext(suite)
    describeRequestIds(suite)
    describeBulkJobs(suite)
    describeUsersAndAudit(suite)
  })
}
