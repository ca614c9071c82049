/**
 * A line diff (Myers' O((N+M)·D) algorithm) with bounded work, for comparing two runs' logs,
 * which may hold hundreds of thousands of lines:
 *
 * - common leading and trailing lines are matched first, in linear time;
 * - at most `maxLines` lines of each side are compared (the rest are reported, not diffed);
 * - the search for a shortest edit script stops after `maxOperations` steps; the differing
 *   middle is then reported as removed-then-added as a whole (a correct diff, not a minimal
 *   one), and the result says so.
 *
 * So the work is O(maxLines + maxOperations) whatever the input, and memory O(maxLines + D²)
 * for the D edits explored. Pure and dependency-free.
 */

/**
 * A run of lines: `same` lines on both sides, lines `removed` from `a`, or lines `added` in `b`.
 * `a` and `b` are where the chunk starts on each side (0-based; an `added` chunk's `a` is where
 * its lines go in, a `removed` chunk's `b` likewise); `count` is its number of lines.
 */
export interface LineChunk {
  readonly kind: 'same' | 'removed' | 'added'
  readonly a: number
  readonly b: number
  readonly count: number
}

/** The differences of two lists of lines, as chunks in order, and how far the comparison went. */
export interface LineDiff {
  /** The compared lines in order: every compared line of `a` and of `b` is in exactly one chunk. */
  readonly chunks: readonly LineChunk[]
  readonly added: number
  readonly removed: number
  readonly unchanged: number
  /** How many lines of each side were compared (the first ones; fewer than given when `truncated`). */
  readonly compared: { readonly a: number; readonly b: number }
  /** A side had more than `maxLines` lines: only its first `maxLines` were compared. */
  readonly truncated: boolean
  /**
   * The search ran out of `maxOperations` before lining up the differing middle: that middle is
   * reported as removed then added as a whole, so lines common to both inside it show as changed.
   */
  readonly approximate: boolean
  /** Steps the search took (at most `maxOperations`; matching the common ends is not counted). */
  readonly operations: number
}

/** Options of {@link diffLines}. */
export interface LineDiffOptions {
  /**
   * Lines of each side compared at most; later lines are left out (`truncated`).
   * @default 10_000
   */
  readonly maxLines?: number
  /**
   * Steps of the shortest-edit search at most (one per diagonal visited and per matching line
   * followed); past it the differing middle is removed-then-added (`approximate`).
   * @default 2_000_000
   */
  readonly maxOperations?: number
}

/**
 * The line differences between `a` and `b`, bounded as the module says.
 *
 * @example
 * diffLines(['x', 'y', 'z'], ['x', 'z', 'w']).chunks
 * // same 1 (x), removed 1 (y), same 1 (z), added 1 (w)
 */
export function diffLines(a: readonly string[], b: readonly string[], options: LineDiffOptions = {}): LineDiff {
  const maxLines = options.maxLines ?? 10_000
  const maxOperations = options.maxOperations ?? 2_000_000
  if (!Number.isSafeInteger(maxLines) || maxLines < 1) throw new RangeError(`maxLines: expected an integer from 1 up, got ${String(maxLines)}`)
  if (!Number.isSafeInteger(maxOperations) || maxOperations < 0) throw new RangeError(`maxOperations: expected an integer from 0 up, got ${String(maxOperations)}`)
  const n = Math.min(a.length, maxLines)
  const m = Math.min(b.length, maxLines)
  let prefix = 0
  while (prefix < n && prefix < m && a[prefix] === b[prefix]) prefix++
  let suffix = 0
  while (suffix < n - prefix && suffix < m - prefix && a[n - 1 - suffix] === b[m - 1 - suffix]) suffix++

  const chunks = new ChunkList()
  chunks.push('same', 0, 0, prefix)
  const search = shortestEdit(a, prefix, n - suffix, b, prefix, m - suffix, maxOperations)
  if (search.ops === null) {
    chunks.push('removed', prefix, prefix, n - suffix - prefix)
    chunks.push('added', n - suffix, prefix, m - suffix - prefix)
  } else {
    let x = prefix
    let y = prefix
    for (const op of search.ops) {
      if (op === SAME) chunks.push('same', x++, y++, 1)
      else if (op === REMOVED) chunks.push('removed', x++, y, 1)
      else chunks.push('added', x, y++, 1)
    }
  }
  chunks.push('same', n - suffix, m - suffix, suffix)
  const list = chunks.done()
  const sum = (kind: LineChunk['kind']): number => list.reduce((total, c) => (c.kind === kind ? total + c.count : total), 0)
  return {
    chunks: list,
    added: sum('added'),
    removed: sum('removed'),
    unchanged: sum('same'),
    compared: { a: n, b: m },
    truncated: n < a.length || m < b.length,
    approximate: search.ops === null,
    operations: search.operations,
  }
}

const SAME = 0
const REMOVED = 1
const ADDED = 2

/**
 * Myers' greedy forward search for a shortest edit script between `a[aFrom, aTo)` and
 * `b[bFrom, bTo)`, keeping the frontier of each step for the walk back. `ops` is `null` when
 * `budget` steps were not enough.
 */
function shortestEdit(a: readonly string[], aFrom: number, aTo: number, b: readonly string[], bFrom: number, bTo: number, budget: number): { ops: Uint8Array | null; operations: number } {
  const n = aTo - aFrom
  const m = bTo - bFrom
  if (n === 0 || m === 0) {
    const ops = new Uint8Array(n + m).fill(n === 0 ? ADDED : REMOVED)
    return { ops, operations: 0 }
  }
  // Lines as integers: one string comparison per line, then integer comparisons in the search.
  const ids = new Map<string, number>()
  const intern = (line: string): number => {
    let id = ids.get(line)
    if (id === undefined) ids.set(line, (id = ids.size))
    return id
  }
  const left = Int32Array.from({ length: n }, (_, i) => intern(a[aFrom + i]!))
  const right = Int32Array.from({ length: m }, (_, i) => intern(b[bFrom + i]!))

  const max = n + m
  const offset = max + 1
  const v = new Int32Array(2 * max + 3)
  // trace[d]: the frontier before step d, over diagonals -d-1 … d+1 (index k + d + 1).
  const trace: Int32Array[] = []
  let operations = 0
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2))
    for (let k = -d; k <= d; k += 2) {
      if (++operations > budget) return { ops: null, operations: budget }
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1
      let y = x - k
      while (x < n && y < m && left[x] === right[y]) {
        x++
        y++
        if (++operations > budget) return { ops: null, operations: budget }
      }
      v[offset + k] = x
      if (x >= n && y >= m) return { ops: walkBack(trace, n, m), operations }
    }
  }
  // Unreachable: D ≤ N + M always ends the loop above.
  throw new Error('line diff: search ended without reaching the end of both sides')
}

/** The edit script from the frontiers `trace` (one per step), from (0, 0) to (n, m). */
function walkBack(trace: readonly Int32Array[], n: number, m: number): Uint8Array {
  const reversed: number[] = []
  let x = n
  let y = m
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d]!
    const at = (k: number): number => v[k + d + 1]!
    const k = x - y
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1
    const prevX = d === 0 ? 0 : at(prevK)
    const prevY = d === 0 ? 0 : prevX - prevK
    while (x > prevX && y > prevY) {
      reversed.push(SAME)
      x--
      y--
    }
    if (d > 0) reversed.push(x === prevX ? ADDED : REMOVED)
    x = prevX
    y = prevY
  }
  return Uint8Array.from(reversed.reverse())
}

/**
 * Chunks built line by line: neighbours of a kind merge, and within each stretch of changes the
 * removed lines come before the added ones (one block each, as readers expect of a diff).
 */
class ChunkList {
  readonly #done: LineChunk[] = []
  /** The pending stretch of changes: where it starts on each side, and its counts. */
  #change: { a: number; b: number; removed: number; added: number } | null = null
  #same: { a: number; b: number; count: number } | null = null

  push(kind: LineChunk['kind'], a: number, b: number, count: number): void {
    if (count === 0) return
    if (kind === 'same') {
      this.#flushChange()
      if (this.#same === null) this.#same = { a, b, count }
      else this.#same.count += count
      return
    }
    this.#flushSame()
    this.#change ??= { a, b, removed: 0, added: 0 }
    if (kind === 'removed') this.#change.removed += count
    else this.#change.added += count
  }

  done(): LineChunk[] {
    this.#flushSame()
    this.#flushChange()
    return this.#done
  }

  #flushSame(): void {
    if (this.#same !== null) this.#done.push({ kind: 'same', ...this.#same })
    this.#same = null
  }

  #flushChange(): void {
    const change = this.#change
    if (change === null) return
    if (change.removed > 0) this.#done.push({ kind: 'removed', a: change.a, b: change.b, count: change.removed })
    if (change.added > 0) this.#done.push({ kind: 'added', a: change.a + change.removed, b: change.b, count: change.added })
    this.#change = null
  }
}
