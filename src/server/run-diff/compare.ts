/**
 * Two runs (or attempts) side by side: their summary fields with the differing ones marked,
 * structural diffs of arguments and result, and a bounded line diff of their logs. One loader
 * for `GET /api/runs/diff` and the admin page `/admin/runs/diff`, which read the same query:
 * `a` and `b`, each `<run id>` or `<run id>:<attempt>`.
 */
import { withoutDuration } from '../../engine/execute/final-line.js'
import type { Engine } from '../../engine/engine.js'
import { diffJson, previewJson, type JsonDiff } from '../../diff/json-diff.js'
import { diffLines, type LineDiff } from '../../diff/line-diff.js'
import type { FieldIssue } from '../../errors.js'
import type { LogEntry } from '../../task/context.js'
import type { RunScope } from '../caller.js'
import { HttpError } from '../http-errors.js'
import { durationOf, loadSide, parseSide, type RunSide, type SideRef } from './sides.js'

/**
 * Log lines of each side compared at most: a longer log is compared on its first lines and the
 * comparison says so. With the line diff's operation budget, this bounds the work of a diff.
 */
export const DIFF_LOG_LINES = 10_000
/** Steps the log diff may take to line up differing lines (see `diffLines`). */
const DIFF_OPERATIONS = 2_000_000

/** One summary field of both sides, as text, and whether they differ. */
export interface ComparedField {
  readonly name: string
  readonly a: string | null
  readonly b: string | null
  readonly same: boolean
  /** `false` for fields shown for reference that always differ between two runs (their times): not marked as a difference. */
  readonly compared: boolean
}

/** Everything the diff page and the API show. */
export interface RunComparison {
  readonly a: RunSide
  readonly b: RunSide
  readonly fields: readonly ComparedField[]
  readonly args: JsonDiff
  readonly result: JsonDiff
  /** Whether the errors (message, code, name and stack) are the same. */
  readonly sameError: boolean
  readonly logs: LineDiff
}

/** The two sides a query names, each parsed; one 400 listing both when either is bad. */
export function parseSides(a: string | undefined, b: string | undefined): { a: SideRef; b: SideRef } {
  const left = parseSide('a', a)
  const right = parseSide('b', b)
  const issues = [left, right].filter((s): s is FieldIssue => 'key' in s)
  if (issues.length > 0) throw new HttpError('ERR_VALIDATION', `invalid run diff: ${issues.map((i) => i.message).join('; ')}`, issues)
  return { a: left as SideRef, b: right as SideRef }
}

/** Loads both sides (with the caller's `scope`) and compares them. */
export async function compareRuns(engine: Engine, scope: RunScope, query: { a: string; b: string }, refs: { a: SideRef; b: SideRef }): Promise<RunComparison> {
  const [a, b] = await Promise.all([loadSide(engine, scope, 'a', query.a, refs.a, DIFF_LOG_LINES), loadSide(engine, scope, 'b', query.b, refs.b, DIFF_LOG_LINES)])
  return {
    a,
    b,
    fields: summaryFields(a, b),
    args: diffJson(a.run.args, b.run.args),
    result: diffJson(a.run.data ?? null, b.run.data ?? null),
    sameError: JSON.stringify(a.error) === JSON.stringify(b.error),
    logs: diffLines(a.logs.map(logKey), b.logs.map(logKey), { maxLines: DIFF_LOG_LINES, maxOperations: DIFF_OPERATIONS }),
  }
}

/**
 * A log line as compared: its level and message (times and positions always differ between runs,
 * and so does the duration an attempt's final line gives: `completed in … ms`).
 */
export function logKey(entry: LogEntry): string {
  return `${entry.level} ${withoutDuration(entry.message)}`
}

function summaryFields(a: RunSide, b: RunSide): ComparedField[] {
  const field = (name: string, read: (side: RunSide) => string | null, compared = true): ComparedField => {
    const left = read(a)
    const right = read(b)
    return { name, a: left, b: right, same: left === right, compared }
  }
  const ms = (n: number | null): string | null => (n === null ? null : String(n))
  return [
    field('task', (s) => s.run.task),
    field('label', (s) => s.run.label),
    field('status', (s) => s.status),
    field('attempt', (s) => (s.attempt === null ? `${s.run.attempt} of ${s.run.maxAttempts + s.run.attemptBase} (whole run)` : `${s.attempt} of ${s.run.attempt}`)),
    field('tookMs', (s) => ms(durationOf(s))),
    field('totalMs', (s) => (s.attempt !== null || s.run.finishedAt === null ? null : String(s.run.finishedAt.getTime() - s.run.createdAt.getTime()))),
    field('tags', (s) => (s.run.tags.length === 0 ? null : s.run.tags.join(', '))),
    field('createdBy', (s) => s.run.createdBy),
    field('queue', (s) => s.run.queue),
    field('worker', (s) => (s.attempt === null ? s.run.workerId : (s.run.attempts.find((x) => x.number === s.attempt)?.workerId ?? s.run.workerId))),
    field('createdAt', (s) => s.run.createdAt.toISOString(), false),
    field('startedAt', (s) => s.startedAt?.toISOString() ?? null, false),
    field('finishedAt', (s) => s.finishedAt?.toISOString() ?? null, false),
    field('logLines', (s) => (s.logTotal === null ? `at least ${s.logs.length}` : String(s.logTotal))),
  ]
}

/** Values in the API's answer longer than this (as JSON) come as a cut preview string. */
const VALUE_PREVIEW = 2_000

/**
 * The comparison as the API answers it: each side's summary, the fields, the JSON diffs (values
 * over 2,000 characters of JSON as a cut preview, flagged `truncated`), and the log diff in a
 * compact form: `{ same: n }`, `{ removed: [lines] }`, `{ added: [lines] }` in order, each line
 * as `<level> <message>`.
 */
export function comparisonJson(c: RunComparison): Record<string, unknown> {
  const side = (s: RunSide) => ({
    ref: s.ref,
    runId: s.run.id,
    attempt: s.attempt,
    task: s.run.task,
    status: s.status,
    error: s.error,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    durationMs: durationOf(s),
    tags: s.run.tags,
    createdBy: s.run.createdBy,
    logLines: s.logTotal,
  })
  const aKeys = c.a.logs.map(logKey)
  const bKeys = c.b.logs.map(logKey)
  return {
    a: side(c.a),
    b: side(c.b),
    fields: c.fields,
    args: jsonDiffJson(c.args),
    result: jsonDiffJson(c.result),
    sameError: c.sameError,
    logs: {
      chunks: c.logs.chunks.map((chunk) =>
        chunk.kind === 'same' ? { same: chunk.count } : chunk.kind === 'removed' ? { removed: aKeys.slice(chunk.a, chunk.a + chunk.count) } : { added: bKeys.slice(chunk.b, chunk.b + chunk.count) },
      ),
      added: c.logs.added,
      removed: c.logs.removed,
      unchanged: c.logs.unchanged,
      compared: c.logs.compared,
      truncated: c.logs.truncated,
      approximate: c.logs.approximate,
    },
  }
}

function jsonDiffJson(diff: JsonDiff): Record<string, unknown> {
  const value = (v: unknown): { value: unknown; cut: boolean } => {
    const text = JSON.stringify(v) as string | undefined
    return text !== undefined && text.length > VALUE_PREVIEW ? { value: previewJson(v, VALUE_PREVIEW), cut: true } : { value: v, cut: false }
  }
  return {
    changes: diff.changes.map((change) => {
      const before = 'before' in change ? value(change.before) : undefined
      const after = 'after' in change ? value(change.after) : undefined
      return {
        path: change.path,
        kind: change.kind,
        ...(before === undefined ? {} : { before: before.value }),
        ...(after === undefined ? {} : { after: after.value }),
        ...(before?.cut === true || after?.cut === true ? { truncated: true } : {}),
      }
    }),
    omitted: diff.omitted,
  }
}
