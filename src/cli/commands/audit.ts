/**
 * `taskengine audit`: the audit trail of the store, newest first: who did what, when, through
 * what, to which target, and what changed. Filters narrow it; `--before <id>` pages back.
 */
import type { Command, Option } from 'commander'
import { Engine } from '../../engine/engine.js'
import { ValidationError, describeValue } from '../../errors.js'
import type { AuditEntry, AuditFilter } from '../../store/types.js'
import { EXIT, renderTable, utc, type CliIo } from '../io.js'
import { openStore } from '../store-option.js'
import { intOption } from '../task-input.js'

interface AuditFlags {
  store?: string
  actor?: string
  action?: string
  target?: string
  from?: string
  to?: string
  before?: string
  limit?: string
  json?: boolean
}

/** How wide the CHANGE column gets before it is cut. */
const CHANGE_WIDTH = 80

export function auditCommand(program: Command, io: CliIo, setExit: (code: number) => void, storeOption: () => Option): void {
  program
    .command('audit')
    .description('list the audit trail, newest first: who did what, when, through what, to which target, and what changed')
    .addOption(storeOption())
    .option('--actor <who>', 'only this actor: a user name, cli, api, token')
    .option('--action <action>', 'only this action (run.cancel), or every action with a prefix ending in "." (run.)')
    .option('--target <target>', 'only this target: a run id, schedule id, user name, queue, worker id')
    .option('--from <time>', 'only entries at or after this ISO time')
    .option('--to <time>', 'only entries before this ISO time')
    .option('--before <id>', 'only entries older than this entry (the next page, as printed under the table)')
    .option('--limit <n>', 'at most n entries (1–1000)', '50')
    .option('--json', 'print { entries, next } as JSON')
    .addHelpText(
      'after',
      '\nActions: run.enqueue run.sync run.start run.cancel run.retry run.delete bulk.<action> bulk.stop\n' +
        '  schedule.toggle schedule.trigger settings.update queue.pause|resume|limits\n' +
        '  task.pause|resume|limits worker.quiet|resume|stop user.add user.role user.password\n' +
        '  user.disable user.enable token.create token.revoke session.revoke task.remove\n  login logout login.failed login.throttled\n' +
        '\nExamples:\n  taskengine audit --actor oncall --action run. --from 2026-12-01\n  taskengine audit --target weekday-report --json\n',
    )
    .action(async (flags: AuditFlags) => {
      setExit(await list(flags, io))
    })
}

async function list(flags: AuditFlags, io: CliIo): Promise<number> {
  // Checked before the store is opened.
  const filter = filterFromFlags(flags)
  const engine = new Engine({ store: await openStore(flags.store, io.cwd) })
  try {
    const page = await engine.audit.list(filter)
    if (flags.json === true) {
      io.stdout.write(`${JSON.stringify(page, null, 2)}\n`)
      return EXIT.ok
    }
    if (page.entries.length === 0) {
      io.stdout.write(filter.before === undefined ? 'no audit entries\n' : 'no older audit entries\n')
      return EXIT.ok
    }
    io.stdout.write(renderTable(['WHEN (UTC)', 'WHO', 'VIA', 'ACTION', 'TARGET', 'CHANGE'], page.entries.map(row)))
    if (page.next !== null) io.stdout.write(`more: add --before ${page.next}\n`)
    return EXIT.ok
  } finally {
    await engine.close()
  }
}

function filterFromFlags(flags: AuditFlags): AuditFilter {
  const filter: { -readonly [K in keyof AuditFilter]: AuditFilter[K] } = { limit: intOption(flags.limit, '--limit', 1, 1000) ?? 50 }
  if (flags.actor !== undefined) filter.actor = flags.actor
  if (flags.action !== undefined) filter.action = flags.action
  if (flags.target !== undefined) filter.target = flags.target
  if (flags.before !== undefined) filter.before = flags.before
  if (flags.from !== undefined) filter.from = time(flags.from, '--from')
  if (flags.to !== undefined) filter.to = time(flags.to, '--to')
  return filter
}

function time(text: string, flag: string): Date {
  const at = new Date(text)
  if (text.trim() === '' || Number.isNaN(at.getTime())) throw new ValidationError(`${flag}: expected an ISO 8601 time (2026-12-01 or 2026-12-01T08:00:00Z), got ${describeValue(text)}`)
  return at
}

function row(e: AuditEntry): string[] {
  const who = e.tokenName === null ? e.actor : `${e.actor} (token ${e.tokenName})`
  const via = e.address === null ? e.via : `${e.via} ${e.address}`
  return [utc(e.at), who, via, e.action, e.target ?? '-', cut(describeChange(e))]
}

/** `key: before → after` for each changed key; else the details as compact JSON. */
function describeChange(e: Pick<AuditEntry, 'before' | 'after' | 'details'>): string {
  const before = plain(e.before)
  const after = plain(e.after)
  if (before !== undefined || after !== undefined) {
    const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])]
    const parts = keys.map((key) => {
      const was = before === undefined ? undefined : before[key]
      const now = after === undefined ? undefined : after[key]
      if (before === undefined) return `${key}: ${show(now)}`
      if (after === undefined) return `${key} was ${show(was)}`
      return `${key}: ${show(was)} → ${show(now)}`
    })
    if (parts.length > 0) return parts.join(', ')
  }
  return e.details === null || e.details === undefined ? '' : JSON.stringify(e.details)
}

function plain(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
}

function show(value: unknown): string {
  return value === undefined ? '-' : typeof value === 'string' ? value : JSON.stringify(value)
}

function cut(text: string): string {
  const flat = text.replace(/\s+/g, ' ')
  return flat.length <= CHANGE_WIDTH ? flat : `${flat.slice(0, CHANGE_WIDTH - 1)}…`
}
