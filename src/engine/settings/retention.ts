/**
 * Retention: a built-in task and a daily schedule that delete finished runs (with their logs,
 * artifacts and emptied pools), old log lines, old per-minute rollups and ended bulk jobs, so a store does not
 * grow without bound. How old is "old" comes from the `runRetentionDays`, `logRetentionDays` and
 * `rollupRetentionDays` settings (0 keeps everything). Progress reports the share deleted so far of what there was to delete.
 */
import { ValidationError, describeValue } from '../../errors.js'
import { optionKeys } from '../../options.js'
import { defineTask, type Task } from '../../task/define.js'
import { DEFAULT_TIMEZONE, defineSchedule, type Schedule } from '../../task/schedule.js'
import type { Store } from '../../store/types.js'
import { DEAD_WORKER_KEEP_MS } from '../durable/dead-workers.js'
import type { LogBackend } from './log-backends.js'
import type { Settings } from './settings.js'

/** The key of the retention task, and the id of its schedule. */
export const RETENTION_ID = 'taskengine.retention'
/** Runs (and ten times as many log lines) deleted per statement, by default ({@link RetentionOptions.batchSize}). */
export const DEFAULT_RETENTION_BATCH_SIZE = 1000
/** When the retention schedule fires by default: daily at 03:15 ({@link RetentionOptions.cron}). */
export const DEFAULT_RETENTION_CRON = '15 3 * * *'
const DAY_MS = 86_400_000

/**
 * Lets timers and I/O run between two batches. A SQLite store answers at once (better-sqlite3 is
 * synchronous), so awaiting it alone would chain every batch of a purge in one turn of the event
 * loop: the workers of this process could not claim, complete or renew a lease until it ended.
 */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Where the retention task finds what it works on. */
export interface RetentionHost {
  store(): Promise<Store>
  settings(): Promise<Settings>
  logBackends(): readonly LogBackend[]
  now(): number
}

/** What one retention run deleted. */
export interface RetentionReport {
  readonly runsDeleted: number
  readonly logLinesDeleted: number
  /** Pools left without runs by the deleted runs (and older empty ones). */
  readonly poolsDeleted: number
  readonly logFilesDeleted: number
  readonly runsBefore: string | null
  readonly logsBefore: string | null
}

/** Options of the built-in retention schedule (`createEngine({ retention })`). */
export interface RetentionOptions {
  /**
   * When to run (a cron expression, as `defineSchedule` reads it).
   * @default '15 3 * * *' (daily at 03:15)
   */
  readonly cron?: string
  /**
   * The IANA time zone `cron` is read in.
   * @default 'UTC'
   */
  readonly timezone?: string
  /**
   * Runs deleted per transaction (log lines: ten times as many; a batch of runs stops early at that many of their log lines).
   * Smaller batches hold the store's write lock for shorter; the event loop turns between two.
   * @default 1000
   */
  readonly batchSize?: number
}

/** Every key of {@link RetentionOptions}. */
export const RETENTION_OPTION_KEYS = optionKeys<RetentionOptions>({ cron: true, timezone: true, batchSize: true })

export function retentionTask(host: RetentionHost, options: RetentionOptions = {}): Task<{ runRetentionDays?: number; logRetentionDays?: number }, RetentionReport> {
  const batch = options.batchSize ?? DEFAULT_RETENTION_BATCH_SIZE
  if (!Number.isSafeInteger(batch) || batch < 1) throw new ValidationError(`retention.batchSize: expected a positive integer, got ${describeValue(batch)}`)
  return defineTask({
    key: RETENTION_ID,
    title: 'Retention',
    category: 'system',
    icon: 'trash',
    description: 'Deletes finished runs, their logs, artifacts and emptied pools older than the retention settings, in batches.',
    tags: ['maintenance'],
    fields: [
      { key: 'runRetentionDays', type: 'int', description: 'Override the run retention setting for this run (days; 0 keeps runs).' },
      { key: 'logRetentionDays', type: 'int', description: 'Override the log retention setting for this run (days; 0 keeps logs).' },
    ],
    maxAttempts: 3,
    async run(ctx) {
      const settings = await host.settings()
      const runDays = ctx.args.runRetentionDays ?? settings.runRetentionDays
      const logDays = ctx.args.logRetentionDays ?? settings.logRetentionDays
      if (runDays < 0 || logDays < 0) throw new Error('retention days must be >= 0')
      const store = await host.store()
      const now = host.now()
      let runsDeleted = 0
      let logLinesDeleted = 0
      let logFilesDeleted = 0
      let poolsDeleted = 0
      const runsBefore = runDays > 0 ? now - runDays * DAY_MS : null
      const logsBefore = logDays > 0 ? now - logDays * DAY_MS : null
      const steps = (runsBefore === null ? 0 : 1) + (logsBefore === null ? 0 : 1)
      let step = 0
      // Percent as it goes: the share of what there was to delete when the run began.
      const todo = await store.countPurgeable(runsBefore, logsBefore)
      const total = todo.runs + todo.logLines
      const report = (message: string): void => {
        const percent = total === 0 ? 99 : Math.min(99, Math.floor(((runsDeleted + logLinesDeleted) * 100) / total))
        ctx.progress({ percent, step, steps, message })
      }
      ctx.log(`to delete: ${todo.runs} runs, ${todo.logLines} log lines of runs kept`)
      if (runsBefore !== null) {
        step++
        ctx.log(`deleting runs finished before ${new Date(runsBefore).toISOString()}`)
        // Until a batch finds nothing: one may stop short of `batch` at its budget of log lines.
        for (;;) {
          ctx.signal.throwIfAborted()
          const ids = await store.purgeRuns(runsBefore, batch)
          if (ids.length === 0) break
          await Promise.all(host.logBackends().map((b) => b.remove(ids)))
          runsDeleted += ids.length
          report(`${runsDeleted} runs deleted`)
          await nextTurn()
        }
        // Pools of the deleted runs, leaves of a tree first: one level per round.
        for (;;) {
          ctx.signal.throwIfAborted()
          const n = await store.purgePools(runsBefore, batch)
          poolsDeleted += n
          if (n === 0) break
          await nextTurn()
        }
        ctx.log(`${runsDeleted} runs deleted${poolsDeleted > 0 ? `, ${poolsDeleted} pool${poolsDeleted === 1 ? '' : 's'}` : ''}`)
      }
      if (logsBefore !== null) {
        step++
        ctx.log(`deleting log lines of runs finished before ${new Date(logsBefore).toISOString()}`)
        for (;;) {
          ctx.signal.throwIfAborted()
          const n = await store.purgeLogs(logsBefore, batch * 10)
          logLinesDeleted += n
          report(`${logLinesDeleted} log lines deleted`)
          if (n < batch * 10) break
          await nextTurn()
        }
        for (const backend of host.logBackends()) if (backend.purge !== undefined) logFilesDeleted += await backend.purge(logsBefore)
        ctx.log(`${logLinesDeleted} log lines deleted${logFilesDeleted > 0 ? `, ${logFilesDeleted} log files` : ''}`)
      }
      // Per-minute rollups (history) older than their own retention.
      const rollupDays = settings.rollupRetentionDays
      if (rollupDays > 0) {
        const rollupRows = await store.purgeRollups(now - rollupDays * DAY_MS)
        if (rollupRows > 0) ctx.log(`${rollupRows} rollup rows older than ${rollupDays} days deleted`)
      }
      // Flow control's bookkeeping: ended throttle windows, old starts, groups long unserved.
      const flowRows = await store.purgeFlowState(now, runsBefore ?? now - 30 * DAY_MS)
      if (flowRows > 0) ctx.log(`${flowRows} rows of flow-control state deleted (ended throttle windows, old rate starts, groups unserved since the cutoff)`)
      // Bulk jobs that ended as long ago as runs are kept (a running one is never deleted).
      if (runsBefore !== null) {
        const bulkJobs = await store.purgeBulkJobs(runsBefore)
        if (bulkJobs > 0) ctx.log(`${bulkJobs} bulk job${bulkJobs === 1 ? '' : 's'} ended before ${new Date(runsBefore).toISOString()} deleted`)
      }
      // The audit trail, by its own retention; sessions that ended more than a day ago.
      const auditDays = settings.auditRetentionDays
      if (auditDays > 0) {
        let auditRows = 0
        for (;;) {
          ctx.signal.throwIfAborted()
          const n = await store.purgeAudit(now - auditDays * DAY_MS, batch * 10)
          auditRows += n
          if (n < batch * 10) break
          await nextTurn()
        }
        if (auditRows > 0) ctx.log(`${auditRows} audit entries older than ${auditDays} days deleted`)
      }
      const sessions = await store.purgeSessions(now - DAY_MS)
      if (sessions > 0) ctx.log(`${sessions} ended sign-in session${sessions === 1 ? '' : 's'} deleted`)
      // Rows of workers dead for longer than the Workers page shows them.
      const workerRows = await store.purgeWorkers(now - DEAD_WORKER_KEEP_MS)
      if (workerRows > 0) ctx.log(`rows of workers dead for over a day deleted: ${workerRows}`)
      if (steps === 0) ctx.log('retention is off (both settings are 0): nothing to delete')
      ctx.progress({ percent: 100, message: 'done' })
      return {
        runsDeleted,
        logLinesDeleted,
        poolsDeleted,
        logFilesDeleted,
        runsBefore: runsBefore === null ? null : new Date(runsBefore).toISOString(),
        logsBefore: logsBefore === null ? null : new Date(logsBefore).toISOString(),
      }
    },
  })
}

export function retentionSchedule(options: RetentionOptions = {}): Schedule {
  return defineSchedule({
    id: RETENTION_ID,
    name: 'Retention',
    description: 'Deletes finished runs and old log lines as the retention settings say.',
    cron: options.cron ?? DEFAULT_RETENTION_CRON,
    timezone: options.timezone ?? DEFAULT_TIMEZONE,
    task: RETENTION_ID,
    overlap: false,
  })
}
