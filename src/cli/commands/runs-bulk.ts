/**
 * `taskengine runs cancel|retry|delete --all <filter flags>`: one action over every run matching
 * the filter, as a bulk job of the store (see `engine.bulk`): prints the count, asks on a
 * terminal (or takes `--yes`), follows the job's progress and prints what was done and skipped.
 * No filter flags means every run, which always needs `--yes`. Interrupted, the job is let go
 * when the engine closes, and `taskengine serve` on the store goes on with it.
 */
import { createInterface } from 'node:readline/promises'
import type { Engine } from '../../engine/engine.js'
import { ValidationError } from '../../errors.js'
import type { BulkAction, BulkJob } from '../../store/types.js'
import { recordCli } from '../cli-actor.js'
import { EXIT, cliUser, interrupted, type CliIo } from '../io.js'
import { filterFromFlags, type FilterFlags } from '../run-filter-flags.js'

/** Flags of `runs cancel|retry|delete --all`. */
export interface BulkFlags extends FilterFlags {
  store?: string
  all?: boolean
  yes?: boolean
}

/** How often progress is read and printed. */
const FOLLOW_MS = 250

/** Runs a bulk job for `action` over the flags' filter; the exit code. */
export async function bulkAction(engine: Engine, action: BulkAction, flags: BulkFlags, io: CliIo): Promise<number> {
  const filter = filterFromFlags(flags)
  const everything = Object.keys(filter).length === 0
  const preview = await engine.bulk.preview(action, filter)
  io.stderr.write(`${preview.count} run${preview.count === 1 ? '' : 's'} match${everything ? ' (no filter: every run)' : ''}\n`)
  if (preview.count === 0) return EXIT.ok
  if (flags.yes !== true) {
    if (everything) throw new ValidationError(`no filter flags: this would ${action} every run (${preview.count}); add --yes to confirm, or give filter flags (--status, --task, …)`)
    if (process.stdin.isTTY !== true || io.stderr.isTTY !== true) throw new ValidationError(`not a terminal to ask on: add --yes to ${action} these ${preview.count} runs`)
    const prompt = createInterface({ input: process.stdin, output: io.stderr })
    const answer = await prompt.question(`${action} ${preview.count} runs? [y/N] `).finally(() => prompt.close())
    if (!/^y(es)?$/i.test(answer.trim())) {
      io.stderr.write('nothing changed\n')
      return EXIT.failed
    }
  }
  let job = await engine.bulk.start(action, filter, cliUser(io))
  await recordCli(engine, io, { action: `bulk.${action}`, target: job.id, details: { filter, count: job.total } })
  io.stderr.write(`bulk job ${job.id}: ${action} ${job.total} runs\n`)
  let stop = false
  void interrupted(io).then(() => (stop = true))
  let shown = ''
  while (job.state === 'running' && !stop) {
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_MS))
    job = (await engine.bulk.get(job.id)) ?? job
    const line = progressLine(job)
    if (line !== shown && io.stderr.isTTY === true) io.stderr.write(`\r${line}`)
    shown = line
  }
  if (io.stderr.isTTY === true) io.stderr.write('\n')
  if (stop && job.state === 'running') {
    io.stderr.write(`interrupted: bulk job ${job.id} is let go at its next batch; \`taskengine serve\` on this store goes on with it (${progressLine(job)})\n`)
    return EXIT.interrupted
  }
  io.stdout.write(`${JSON.stringify({ id: job.id, action: job.action, state: job.state, total: job.total, done: job.done, skipped: job.skipped, error: job.error })}\n`)
  io.stderr.write(`${job.state}: ${job.done} done, ${job.skipped} skipped (no longer in a state that allows it, or no longer matching)${job.error === null ? '' : `; failed: ${job.error}`}\n`)
  return job.state === 'finished' ? EXIT.ok : EXIT.failed
}

function progressLine(job: BulkJob): string {
  return `${job.done + job.skipped}/${job.total} (${job.done} done, ${job.skipped} skipped)`
}
