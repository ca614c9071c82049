/**
 * The performance targets (issue 16), each beside its measured figure. Suites call `target()` as
 * they measure; `npm run bench` prints them together at the end (`printTargets`), met or missed.
 * A target whose suite did not run (or was skipped: no broker, no database) is not listed.
 */
import { printTable, type Row } from './table.js'

interface Target {
  readonly what: string
  readonly op: '≥' | '≤'
  readonly goal: number
  readonly measured: number
  readonly unit: string
}

const targets: Target[] = []

/**
 * Records a target and its figure: `target('SQLite processing, best concurrency', 104_000, '≥', 100_000, 'runs/s')`.
 * Ratios use the unit `×`, shares `%`.
 */
export function target(what: string, measured: number, op: '≥' | '≤', goal: number, unit: string): void {
  targets.push({ what, op, goal, measured, unit })
}

function show(value: number, unit: string): string {
  const digits = unit === '×' || unit === 'ms' || unit === 'µs' ? 2 : unit === '%' ? 1 : 0
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
  return unit === '×' ? `${text}×` : unit === '%' ? `${text} %` : `${text} ${unit}`
}

/** Prints every recorded target: goal, measured figure, met or missed. */
export function printTargets(): void {
  if (targets.length === 0) return
  const rows: Row[] = targets.map((t) => {
    const met = Number.isFinite(t.measured) && (t.op === '≥' ? t.measured >= t.goal : t.measured <= t.goal)
    return { target: t.what, goal: `${t.op} ${show(t.goal, t.unit)}`, measured: Number.isFinite(t.measured) ? show(t.measured, t.unit) : 'not measured', '': met ? 'met' : 'MISSED' }
  })
  const missed = rows.filter((r) => r[''] === 'MISSED').length
  printTable(`Targets (issue 16): ${rows.length - missed} of ${rows.length} met on this machine, this run`, rows)
}
