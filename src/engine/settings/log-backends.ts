/**
 * Log backends: where workers write the log lines of durable runs. The store itself is the
 * default (lines go in the same transaction as the run's other writes, fenced by its token);
 * `filesLogBackend` keeps one JSON-lines file per run in a directory; applications register
 * their own with `engine.registerLogBackend()` and pick one with the `logBackend` setting.
 */
import { appendFile, mkdir, readFile, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ValidationError, describeValue } from '../../errors.js'
import type { LogEntry, LogLevel } from '../../task/context.js'

/** One log line to keep. */
export interface LogLine {
  readonly runId: string
  readonly seq: number
  readonly time: number
  readonly level: LogLevel
  readonly message: string
}

/** A place for log lines outside the store. */
export interface LogBackend {
  /** Picked by this name in the `logBackend` setting: letters, digits, `-`, `_`. */
  readonly name: string
  readonly title: string
  readonly description: string
  /** Keeps lines (of several runs, in order per run). Resolves once they are durable. */
  append(lines: readonly LogLine[]): Promise<void>
  /** Lines of a run after position `after`, oldest first, at most `limit`. */
  read(runId: string, after: number, limit: number): Promise<LogEntry[]>
  /** Forgets every line of these runs (they were deleted). */
  remove(runIds: readonly string[]): Promise<void>
  /** Forgets lines written before `before` (epoch ms), for log retention; returns how many runs' lines went. */
  purge?(before: number): Promise<number>
}

/** What the admin UI shows of a backend. */
export interface LogBackendInfo {
  readonly name: string
  readonly title: string
  readonly description: string
}

/** The built-in choice: lines live in the store's own log table. */
export const STORE_LOG_BACKEND: LogBackendInfo = {
  name: 'store',
  title: 'Store',
  description: 'Log lines live in the store (SQLite or PostgreSQL), written with the run in one transaction.',
}

const BACKEND_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$/
const RUN_ID = /^[A-Za-z0-9-]{1,100}$/

/** Checks a backend given to `registerLogBackend`. */
export function checkLogBackend(backend: unknown): asserts backend is LogBackend {
  const b = backend as Partial<LogBackend> | null
  if (typeof b !== 'object' || b === null) throw new ValidationError(`log backend: expected an object, got ${describeValue(backend)}`)
  if (typeof b.name !== 'string' || !BACKEND_NAME.test(b.name)) throw new ValidationError(`log backend: name must be letters, digits, "-" and "_" (at most 50), got ${describeValue(b.name)}`)
  if (b.name === STORE_LOG_BACKEND.name) throw new ValidationError('log backend: "store" is the built-in backend; pick another name')
  for (const key of ['title', 'description'] as const) if (typeof b[key] !== 'string') throw new ValidationError(`log backend "${b.name}": ${key} must be a string`)
  for (const key of ['append', 'read', 'remove'] as const) if (typeof b[key] !== 'function') throw new ValidationError(`log backend "${b.name}": ${key} must be a function`)
}

/**
 * Log lines as files: `<dir>/<run id>.jsonl`, one JSON object per line. Suits deployments that
 * ship files to a log system, or keep a busy store small. All processes that read the logs
 * must see the directory (a shared volume when workers run on several machines).
 */
export function filesLogBackend(options: { readonly dir: string; readonly name?: string }): LogBackend {
  const dir = options.dir
  if (typeof dir !== 'string' || dir === '') throw new ValidationError(`filesLogBackend: dir must be a directory path, got ${describeValue(dir)}`)
  let made: Promise<unknown> | undefined
  const file = (runId: string): string => {
    // Run ids are engine-made UUIDs; anything else must not become a path.
    if (!RUN_ID.test(runId)) throw new ValidationError(`run id: not a valid id for a log file: ${describeValue(runId)}`)
    return join(dir, `${runId}.jsonl`)
  }
  return {
    name: options.name ?? 'files',
    title: 'Files',
    description: `One JSON-lines file per run in ${dir}.`,
    async append(lines) {
      made ??= mkdir(dir, { recursive: true })
      await made
      const byRun = new Map<string, string[]>()
      for (const l of lines) {
        const text = `${JSON.stringify({ seq: l.seq, time: l.time, level: l.level, message: l.message })}\n`
        const list = byRun.get(l.runId)
        if (list === undefined) byRun.set(l.runId, [text])
        else list.push(text)
      }
      await Promise.all([...byRun].map(([runId, texts]) => appendFile(file(runId), texts.join(''))))
    },
    async read(runId, after, limit) {
      let text: string
      try {
        text = await readFile(file(runId), 'utf8')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
        throw error
      }
      const out: LogEntry[] = []
      const seen = new Set<number>()
      for (const line of text.split('\n')) {
        if (line === '') continue
        let parsed: { seq: number; time: number; level: LogLevel; message: string }
        try {
          parsed = JSON.parse(line) as typeof parsed
        } catch {
          continue // a line cut short by a crash
        }
        // A batch written twice (a retry after a failed write) keeps its first copy.
        if (parsed.seq <= after || seen.has(parsed.seq)) continue
        seen.add(parsed.seq)
        out.push({ seq: parsed.seq, time: new Date(parsed.time), level: parsed.level, message: parsed.message })
      }
      out.sort((a, b) => a.seq - b.seq)
      return out.slice(0, limit)
    },
    async remove(runIds) {
      await Promise.all(runIds.map((id) => rm(file(id), { force: true })))
    },
    async purge(before) {
      let names: string[]
      try {
        names = await readdir(dir)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
        throw error
      }
      let removed = 0
      for (const name of names) {
        if (!name.endsWith('.jsonl')) continue
        const path = join(dir, name)
        const info = await stat(path).catch(() => undefined)
        if (info !== undefined && info.mtimeMs < before) {
          await rm(path, { force: true })
          removed++
        }
      }
      return removed
    },
  }
}
