/**
 * One side of a run diff: a run, or one attempt of it, as named by a query parameter
 * (`<run id>` or `<run id>:<attempt>`), read with the caller's run scope, with its log lines.
 *
 * A whole run shows its status, error and timing; an attempt its outcome, error and timing from
 * `run.attempts[]` (or, for the attempt going on now, the run's) and only the log lines it wrote.
 * Arguments and result are the run's either way (attempts have no result of their own).
 */
import type { Engine } from '../../engine/engine.js'
import { describeValue, type FieldIssue } from '../../errors.js'
import type { Attempt, Run } from '../../store/types.js'
import type { LogEntry, RunError } from '../../task/context.js'
import { mayRead, type RunScope } from '../caller.js'
import { HttpError, notFound } from '../http-errors.js'
import { attemptsOfLines } from '../log-attempts.js'

/** What a side's parameter names: a run, and one of its attempts or (`null`) the whole run. */
export interface SideRef {
  readonly runId: string
  readonly attempt: number | null
}

/** One side as compared. */
export interface RunSide {
  /** The parameter as given (`<run id>` or `<run id>:<attempt>`). */
  readonly ref: string
  readonly run: Run
  /** The attempt compared, or `null` for the whole run. */
  readonly attempt: number | null
  /** The run's status, or the attempt's outcome (`retry`, `interrupted` …); an attempt going on now: the run's status. */
  readonly status: string
  readonly error: RunError | null
  readonly startedAt: Date | null
  readonly finishedAt: Date | null
  /** Lines of the run or attempt, oldest first: at most the reader's `maxLines` plus one (so a longer log shows as longer). */
  readonly logs: readonly LogEntry[]
  /** How many lines the run or attempt has, when known (`null`: more than were read). */
  readonly logTotal: number | null
}

/** The syntax of a side, for messages and the API's description. */
export const SIDE_SYNTAX = '<run id> or <run id>:<attempt> (attempt from 1)'

/** The longest run id a side may name (the engine's limit). */
const MAX_ID_LENGTH = 100

/** Log lines read per store call. */
const LOG_PAGE = 10_000
/** Log lines scanned at most for one side (an attempt's lines may follow many of earlier attempts). */
const LOG_SCAN_LIMIT = 200_000

/**
 * Reads a side's parameter `name` (`a` or `b`): the run id and, after a colon, the attempt.
 * Returns the issue to report instead when it is missing or malformed.
 *
 * @example
 * parseSide('b', '0190c…:2') // { runId: '0190c…', attempt: 2 }
 */
export function parseSide(name: string, text: string | undefined): SideRef | FieldIssue {
  const expected = SIDE_SYNTAX
  const bad = (detail: string): FieldIssue => ({ key: name, expected, received: describeValue(text), message: `${name}: expected ${expected}, got ${describeValue(text)}${detail}` })
  if (text === undefined || text === '') return { key: name, expected, received: 'nothing', message: `${name}: missing, expected ${expected}` }
  const match = /^([^:\s]+)(?::(\d+))?$/.exec(text)
  if (match === null) return bad('')
  const runId = match[1]!
  if (runId.length > MAX_ID_LENGTH) return bad(` (a run id has at most ${MAX_ID_LENGTH} characters)`)
  if (match[2] === undefined) return { runId, attempt: null }
  const attempt = Number(match[2])
  if (!Number.isSafeInteger(attempt) || attempt < 1) return bad(' (attempts count from 1)')
  return { runId, attempt }
}

/**
 * The side `ref` (parameter `name`) as the caller may see it: 404 naming the run when it does
 * not exist or is another's (for an own-runs-only caller), 400 naming the parameter when the
 * attempt does not exist. At most `maxLines + 1` log lines are kept.
 */
export async function loadSide(engine: Engine, scope: RunScope, name: string, text: string, ref: SideRef, maxLines: number): Promise<RunSide> {
  const run = await engine.getRun(ref.runId)
  if (run === undefined || !mayRead(scope, run)) throw notFound(`${name}: unknown run "${ref.runId}"`)
  const base = { ref: text, run }
  if (ref.attempt === null) {
    const { logs, total } = await readLogs(engine, run, null, maxLines)
    return { ...base, attempt: null, status: run.status, error: run.error, startedAt: run.startedAt, finishedAt: run.finishedAt, logs, logTotal: total ?? run.logCount }
  }
  const attempt = attemptOf(run, ref.attempt)
  if (attempt === undefined) {
    const known = attemptNumbers(run)
    const has = known.length === 0 ? 'it has not started an attempt yet' : `it has attempt${known.length === 1 ? '' : 's'} ${known.join(', ')}`
    const message = `${name}: run "${run.id}" has no attempt ${ref.attempt} (${has})`
    throw new HttpError('ERR_VALIDATION', message, [{ key: name, expected: `an attempt of run "${run.id}"`, received: describeValue(text), message }])
  }
  const { logs, total } = await readLogs(engine, run, ref.attempt, maxLines)
  return { ...base, attempt: ref.attempt, status: attempt.outcome, error: attempt.error, startedAt: attempt.startedAt, finishedAt: attempt.finishedAt, logs, logTotal: total }
}

/** How long a side took (start to finish), in ms; `null` while it has not both. */
export function durationOf(side: RunSide): number | null {
  return side.startedAt === null || side.finishedAt === null ? null : side.finishedAt.getTime() - side.startedAt.getTime()
}

/** An attempt as compared: a recorded one, or the one going on now (the run's state so far). */
interface AttemptView {
  readonly outcome: string
  readonly error: Attempt['error']
  readonly startedAt: Date
  readonly finishedAt: Date | null
}

function attemptOf(run: Run, number: number): AttemptView | undefined {
  const recorded = run.attempts.find((a) => a.number === number)
  if (recorded !== undefined) return recorded
  if (number === run.attempt && run.startedAt !== null && run.finishedAt === null) return { outcome: run.status, error: null, startedAt: run.startedAt, finishedAt: null }
  return undefined
}

function attemptNumbers(run: Run): number[] {
  const numbers = run.attempts.map((a) => a.number)
  if (run.startedAt !== null && run.finishedAt === null && !numbers.includes(run.attempt)) numbers.push(run.attempt)
  return numbers
}

/**
 * The run's log lines (of one attempt, or all), at most `maxLines + 1`, reading no more than
 * {@link LOG_SCAN_LIMIT} lines. `total` is the exact count when every line of the side was read.
 */
async function readLogs(engine: Engine, run: Run, attempt: number | null, maxLines: number): Promise<{ logs: LogEntry[]; total: number | null }> {
  const kept: LogEntry[] = []
  let after = 0
  for (let scanned = 0; scanned < LOG_SCAN_LIMIT; ) {
    const batch = await engine.getLogs(run.id, { after, limit: LOG_PAGE })
    scanned += batch.length
    const numbers = attempt === null ? [] : attemptsOfLines(run, batch)
    let past = false
    for (let i = 0; i < batch.length && kept.length <= maxLines; i++) {
      if (attempt === null || numbers[i] === attempt) kept.push(batch[i]!)
      // Lines are in order, and so are attempts: past this one, none of its lines follow.
      else if (numbers[i]! > attempt) past = true
    }
    if (kept.length > maxLines) return { logs: kept, total: null }
    if (past || batch.length < LOG_PAGE) return { logs: kept, total: kept.length }
    after = batch.at(-1)!.seq
  }
  return { logs: kept, total: null }
}
