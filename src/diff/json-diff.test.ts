import { describe, expect, it } from 'vitest'
import { diffJson, previewJson } from './json-diff.js'

describe('diffJson', () => {
  it('lists added, removed and changed paths through nested objects and arrays, in document order', () => {
    const a = { name: 'ann', opts: { retries: 2, mode: 'fast', gone: true }, items: [1, { id: 'x' }, 3] }
    const b = { name: 'bob', opts: { retries: 2, mode: 'slow', extra: null }, items: [1, { id: 'y' }], added: [] }
    expect(diffJson(a, b)).toEqual({
      changes: [
        { path: 'name', kind: 'changed', before: 'ann', after: 'bob' },
        { path: 'opts.mode', kind: 'changed', before: 'fast', after: 'slow' },
        { path: 'opts.extra', kind: 'added', after: null },
        { path: 'opts.gone', kind: 'removed', before: true },
        { path: 'items[1].id', kind: 'changed', before: 'x', after: 'y' },
        { path: 'items[2]', kind: 'removed', before: 3 },
        { path: 'added', kind: 'added', after: [] },
      ],
      omitted: 0,
    })
  })

  it('finds nothing between equal values, whatever the key order', () => {
    expect(diffJson({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 }).changes).toEqual([])
    expect(diffJson(null, null).changes).toEqual([])
    expect(diffJson('x', 'x').changes).toEqual([])
  })

  it('reports a change of type once, at its path, and a changed root as the empty path', () => {
    expect(diffJson({ v: { a: 1, b: 2 } }, { v: [1, 2] }).changes).toEqual([{ path: 'v', kind: 'changed', before: { a: 1, b: 2 }, after: [1, 2] }])
    expect(diffJson({ v: null }, { v: {} }).changes).toEqual([{ path: 'v', kind: 'changed', before: null, after: {} }])
    expect(diffJson(1, '1').changes).toEqual([{ path: '', kind: 'changed', before: 1, after: '1' }])
    expect(diffJson(null, { a: 1 }).changes).toEqual([{ path: '', kind: 'changed', before: null, after: { a: 1 } }])
  })

  it('compares arrays by index: an item put in front changes every later index and adds one at the end', () => {
    expect(diffJson(['b', 'c'], ['a', 'b', 'c']).changes).toEqual([
      { path: '[0]', kind: 'changed', before: 'b', after: 'a' },
      { path: '[1]', kind: 'changed', before: 'c', after: 'b' },
      { path: '[2]', kind: 'added', after: 'c' },
    ])
  })

  it('quotes keys that are not identifiers, so paths read back unambiguously', () => {
    expect(diffJson({ 'a.b': 1, 'x y': { '0': 1 } }, { 'a.b': 2, 'x y': { '0': 2 } }).changes.map((c) => c.path)).toEqual(['["a.b"]', '["x y"]["0"]'])
  })

  it('stops listing at maxChanges and counts the rest', () => {
    const a = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i]))
    const b = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, -i - 1]))
    const diff = diffJson(a, b, { maxChanges: 3 })
    expect(diff.changes.map((c) => c.path)).toEqual(['k0', 'k1', 'k2'])
    expect(diff.omitted).toBe(7)
    expect(() => diffJson(a, b, { maxChanges: -1 })).toThrow('maxChanges: expected an integer from 0 up, got -1')
  })

  it('walks values nested deeper than the call stack would allow', () => {
    let a: unknown = 1
    let b: unknown = 2
    for (let i = 0; i < 100_000; i++) {
      a = { n: a }
      b = { n: b }
    }
    const [change] = diffJson(a, b).changes
    expect(change?.path).toBe(`${'n.'.repeat(99_999)}n`)
  })
})

describe('previewJson', () => {
  it('shows short values as JSON and cuts long ones, saying their full length', () => {
    expect(previewJson({ a: [1, 'x'] })).toBe('{"a":[1,"x"]}')
    expect(previewJson('x'.repeat(1000), 20)).toBe(`"${'x'.repeat(19)}… (1,002 chars)`)
    expect(previewJson(undefined)).toBe('undefined')
  })
})
