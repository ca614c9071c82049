import { describe, expect, it } from 'vitest'
import { diffLines, type LineDiff } from './line-diff.js'

/** `b` rebuilt from `a` and the chunks: same lines from `a`, added ones from `b`, removed ones skipped. */
function rebuild(a: readonly string[], b: readonly string[], diff: LineDiff): string[] {
  const out: string[] = []
  let x = 0
  let y = 0
  for (const chunk of diff.chunks) {
    expect([chunk.a, chunk.b]).toEqual([x, y])
    if (chunk.kind === 'same') {
      for (let i = 0; i < chunk.count; i++) expect(a[x + i]).toBe(b[y + i])
      out.push(...a.slice(x, x + chunk.count))
      x += chunk.count
      y += chunk.count
    } else if (chunk.kind === 'removed') x += chunk.count
    else {
      out.push(...b.slice(y, y + chunk.count))
      y += chunk.count
    }
  }
  expect([x, y]).toEqual([diff.compared.a, diff.compared.b])
  return out
}

/** The length of a longest common subsequence, by dynamic programming (small inputs only). */
function lcs(a: readonly string[], b: readonly string[]): number {
  const row = new Array<number>(b.length + 1).fill(0)
  for (const line of a) {
    let diagonal = 0
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!
      row[j] = line === b[j - 1] ? diagonal + 1 : Math.max(row[j]!, row[j - 1]!)
      diagonal = above
    }
  }
  return row[b.length]!
}

/** A seeded generator, so a failure repeats. */
function random(seed: number): () => number {
  let s = seed
  return () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31)
}

describe('diffLines', () => {
  it('marks what was removed and added, with the lines between them unchanged', () => {
    const diff = diffLines(['start', 'step 1', 'step 2', 'done'], ['start', 'step 1', 'retrying', 'step 2', 'failed'])
    expect(diff.chunks).toEqual([
      { kind: 'same', a: 0, b: 0, count: 2 },
      { kind: 'added', a: 2, b: 2, count: 1 },
      { kind: 'same', a: 2, b: 3, count: 1 },
      { kind: 'removed', a: 3, b: 4, count: 1 },
      { kind: 'added', a: 4, b: 4, count: 1 },
    ])
    expect(diff).toMatchObject({ added: 2, removed: 1, unchanged: 3, truncated: false, approximate: false })
  })

  it('handles empty sides and identical sides', () => {
    expect(diffLines([], []).chunks).toEqual([])
    expect(diffLines([], ['a', 'b']).chunks).toEqual([{ kind: 'added', a: 0, b: 0, count: 2 }])
    expect(diffLines(['a'], []).chunks).toEqual([{ kind: 'removed', a: 0, b: 0, count: 1 }])
    expect(diffLines(['a', 'b'], ['a', 'b'])).toMatchObject({ chunks: [{ kind: 'same', a: 0, b: 0, count: 2 }], operations: 0 })
  })

  it('finds a shortest edit script: as many unchanged lines as a longest common subsequence', () => {
    const next = random(7)
    for (let round = 0; round < 300; round++) {
      const pick = (): string[] => Array.from({ length: Math.floor(next() * 14) }, () => 'abcd'[Math.floor(next() * 4)]!)
      const a = pick()
      const b = pick()
      const diff = diffLines(a, b)
      expect(rebuild(a, b, diff), `${a.join('')} → ${b.join('')}`).toEqual(b)
      expect(diff.unchanged, `${a.join('')} → ${b.join('')}`).toBe(lcs(a, b))
      expect(diff.added + diff.unchanged).toBe(b.length)
      expect(diff.removed + diff.unchanged).toBe(a.length)
    }
  })

  it('puts the removed lines of a stretch of changes before its added ones', () => {
    const diff = diffLines(['a', 'x', 'y', 'b'], ['a', '1', '2', '3', 'b'])
    expect(diff.chunks.map((c) => `${c.kind} ${c.count}`)).toEqual(['same 1', 'removed 2', 'added 3', 'same 1'])
  })

  it('bounds the work on a 50,000-line pair: compares the first lines only and stops the search at its budget', () => {
    const next = random(42)
    const a = Array.from({ length: 50_000 }, (_, i) => `line ${i} value ${Math.floor(next() * 1000)}`)
    const b = a.map((line, i) => (i % 3 === 0 ? `${line} changed` : line))
    const diff = diffLines(a, b, { maxLines: 10_000, maxOperations: 200_000 })
    expect(diff.truncated).toBe(true)
    expect(diff.compared).toEqual({ a: 10_000, b: 10_000 })
    // Every third line differs: about 6,700 edits, far past what 200,000 steps can line up.
    expect(diff.approximate).toBe(true)
    expect(diff.operations).toBeLessThanOrEqual(200_000)
    expect(rebuild(a, b, diff)).toEqual(b.slice(0, 10_000))
  })

  it('past its budget keeps the common ends lined up and replaces only the differing middle', () => {
    const a = ['head', 'x1', 'x2', 'x3', 'tail']
    const b = ['head', 'y1', 'x2', 'y3', 'tail']
    const diff = diffLines(a, b, { maxOperations: 2 })
    expect(diff).toMatchObject({ approximate: true, operations: 2, removed: 3, added: 3, unchanged: 2 })
    expect(diff.chunks.map((c) => `${c.kind} ${c.count}`)).toEqual(['same 1', 'removed 3', 'added 3', 'same 1'])
    expect(diffLines(a, b)).toMatchObject({ approximate: false, removed: 2, added: 2, unchanged: 3 })
  })

  it('diffs a 50,000-line pair with a few differences exactly, within the default bound', () => {
    const a = Array.from({ length: 50_000 }, (_, i) => `line ${i}`)
    const b = [...a.slice(0, 2000), 'inserted', ...a.slice(2000, 7000), ...a.slice(7001)]
    const diff = diffLines(a, b)
    expect(diff).toMatchObject({ truncated: true, approximate: false, added: 1, removed: 1, compared: { a: 10_000, b: 10_000 } })
    expect(diff.operations).toBeLessThanOrEqual(2_000_000)
    expect(rebuild(a, b, diff)).toEqual(b.slice(0, 10_000))
  })

  it('refuses bounds that are not positive integers, naming the option', () => {
    expect(() => diffLines([], [], { maxLines: 0 })).toThrow('maxLines: expected an integer from 1 up, got 0')
    expect(() => diffLines([], [], { maxOperations: 1.5 })).toThrow('maxOperations: expected an integer from 0 up, got 1.5')
  })
})
