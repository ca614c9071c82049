/**
 * Durable runs end to end, the same suite for every store: enqueue, workers, the lifecycle,
 * control, pools, recorded in-process runs. Real stores, real timers kept short. Run by
 * test/sqlite/durable.test.ts and test/postgres/durable.test.ts; one file here per concern,
 * sharing harness.ts.
 */
import { describeArtifactsAndEvents } from './artifacts-and-events.js'
import { describeBulk } from './bulk.js'
import { describeControl } from './control.js'
import { describeEnqueue } from './enqueue.js'
import { describeRunningHandlers } from './handlers.js'
import { describeHandlerContext } from './handler-context.js'
import { durableSuite, type DurableBackend } from './harness.js'
import { describeLimits } from './limits.js'
import { describePools } from './pools.js'
import { describeLastAttemptStart, describePrefetch } from './prefetch.js'
import { describeRecordedRuns } from './recorded.js'
import { describeBackoff, describeCancelledError, describeRetries } from './retries.js'
import { describeValidate } from './validate.js'
import { describeWorkerCommands } from './workers.js'

export type { DurableBackend }

/** Declares the durable suite against `backend`, in the current describe block. */
export function describeDurable(backend: DurableBackend): void {
  const suite = durableSuite(backend)
  describeEnqueue(suite)
  describeBackoff(suite)
  describeRunningHandlers(suite)
  describeRetries(suite)
  describeControl(suite)
  describeLimits(suite)
  describePools(suite)
  describeArtifactsAndEvents(suite)
  describeCancelledError(suite)
  describePrefetch(suite)
  describeLastAttemptStart(suite)
  describeWorkerCommands(suite)
  describeBulk(suite)
  describeRecordedRuns(suite)
  describeValidate(suite)
  describeHandlerContext(suite)
}
