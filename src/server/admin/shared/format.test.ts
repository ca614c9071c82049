import { describe, expect, it } from 'vitest'
import { clockTime, formatCompact, formatCount, formatDuration, formatPercent, jsonText, jsonTree, plural, progressCaption, relative } from './format.js'

describe('formatDuration', () => {
  it('writes milliseconds, seconds with a tenth, minutes with seconds, hours with minutes', () => {
    expect(formatDuration(0)).toBe('0 ms')
    expect(formatDuration(-5)).toBe('0 ms')
    expect(formatDuration(849.6)).toBe('850 ms')
    expect(formatDuration(999)).toBe('999 ms')
    expect(formatDuration(1000)).toBe('1.0 s')
    expect(formatDuration(2449)).toBe('2.4 s')
    expect(formatDuration(59_999)).toBe('60.0 s')
    expect(formatDuration(60_000)).toBe('1 min 0 s')
    expect(formatDuration(185_000)).toBe('3 min 5 s')
    expect(formatDuration(3_600_000)).toBe('1 h 0 min')
    expect(formatDuration(7_800_000)).toBe('2 h 10 min')
  })
})

describe('relative', () => {
  const now = Date.UTC(2026, 0, 1, 12)
  const at = (seconds: number): Date => new Date(now + seconds * 1000)

  it('says "just now" within a second either way', () => {
    expect(relative(at(0), now)).toBe('just now')
    expect(relative(at(-1.4), now)).toBe('just now')
    expect(relative(at(1.4), now)).toBe('just now')
  })

  it('counts seconds, minutes, hours and days, in the past and the future', () => {
    expect(relative(at(-2), now)).toBe('2 s ago')
    expect(relative(at(5), now)).toBe('in 5 s')
    expect(relative(at(-59), now)).toBe('59 s ago')
    expect(relative(at(-60), now)).toBe('1 min ago')
    expect(relative(at(-90), now)).toBe('2 min ago')
    expect(relative(at(3599), now)).toBe('in 60 min')
    expect(relative(at(-3600), now)).toBe('1 h ago')
    expect(relative(at(86_399), now)).toBe('in 24 h')
    expect(relative(at(-86_400 * 3), now)).toBe('3 d ago')
  })

  it('is seen from the present without a "now"', () => {
    expect(relative(new Date())).toBe('just now')
  })
})

describe('small parts', () => {
  it('pluralizes, cuts a log line\'s clock time and writes progress captions', () => {
    expect([plural(0, 'key'), plural(1, 'key'), plural(2, 'item')]).toEqual(['0 keys', '1 key', '2 items'])
    expect(clockTime('2026-03-01T14:03:59.123Z')).toBe('14:03:59')
    expect(progressCaption({})).toEqual({ percent: '', steps: '', message: '' })
    expect(progressCaption({ percent: 42.9, step: 3, steps: 10, message: 'copying' })).toEqual({ percent: '42%', steps: '3/10', message: 'copying' })
    // A step without a count of steps says nothing.
    expect(progressCaption({ step: 3 }).steps).toBe('')
  })
})

describe('jsonTree', () => {
  it('draws scalars as rows with their class', () => {
    expect(jsonTree(null)).toEqual({ kind: 'row', key: undefined, class: 'z', text: 'null' })
    expect(jsonTree('a "b"')).toEqual({ kind: 'row', key: undefined, class: 's', text: '"a \\"b\\""' })
    expect(jsonTree(1.5)).toEqual({ kind: 'row', key: undefined, class: 'n', text: '1.5' })
    expect(jsonTree(false)).toEqual({ kind: 'row', key: undefined, class: 'b', text: 'false' })
    expect(jsonTree([])).toEqual({ kind: 'row', key: undefined, class: 'z', text: '[]' })
    expect(jsonTree({})).toEqual({ kind: 'row', key: undefined, class: 'z', text: '{}' })
  })

  it('draws containers as branches, named by key, open at the top two levels', () => {
    const tree = jsonTree({ name: 'x', list: [1, { deep: { deeper: true } }] })
    expect(tree).toEqual({
      kind: 'branch',
      key: undefined,
      open: '{',
      close: '}',
      size: '2 keys',
      expanded: true,
      children: [
        { kind: 'row', key: '"name": ', class: 's', text: '"x"' },
        {
          kind: 'branch',
          key: '"list": ',
          open: '[',
          close: ']',
          size: '2 items',
          expanded: true,
          children: [
            { kind: 'row', key: undefined, class: 'n', text: '1' },
            {
              kind: 'branch',
              key: undefined,
              open: '{',
              close: '}',
              size: '1 key',
              expanded: false,
              children: [{ kind: 'branch', key: '"deep": ', open: '{', close: '}', size: '1 key', expanded: false, children: [{ kind: 'row', key: '"deeper": ', class: 'b', text: 'true' }] }],
            },
          ],
        },
      ],
    })
  })

  it('keeps the raw text to copy: indented JSON, null for nothing', () => {
    expect(jsonText({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}')
    expect(jsonText(undefined)).toBe('null')
    expect(jsonTree(JSON.parse(jsonText(undefined)))).toEqual({ kind: 'row', key: undefined, class: 'z', text: 'null' })
  })
})

describe('counts', () => {
  it('groups thousands with commas, rounding to a whole number', () => {
    expect(formatCount(0)).toBe('0')
    expect(formatCount(999)).toBe('999')
    expect(formatCount(1000)).toBe('1,000')
    expect(formatCount(20_001)).toBe('20,001')
    expect(formatCount(1_234_567.6)).toBe('1,234,568')
    expect(formatCount(-20_001)).toBe('-20,001')
    expect(formatCount(-0.2)).toBe('0')
    expect(formatCount(Number.NaN)).toBe('NaN')
    expect(plural(20_001, 'run')).toBe('20,001 runs')
    expect(plural(1, 'run')).toBe('1 run')
  })

  it('writes compact counts in at most four characters, never rounding up into the next unit', () => {
    expect(formatCompact(0)).toBe('0')
    expect(formatCompact(950)).toBe('950')
    expect(formatCompact(999.6)).toBe('1000')
    expect(formatCompact(1000)).toBe('1k')
    expect(formatCompact(1250)).toBe('1.2k')
    expect(formatCompact(20_001)).toBe('20k')
    expect(formatCompact(999_999)).toBe('999k')
    expect(formatCompact(1_000_000)).toBe('1M')
    expect(formatCompact(3_456_789)).toBe('3.4M')
    expect(formatCompact(12_000_000_000)).toBe('12B')
    expect(formatCompact(-20_001)).toBe('-20k')
  })

  it('writes shares as percentages, with a decimal below 10%', () => {
    expect(formatPercent(0)).toBe('0%')
    expect(formatPercent(0.004)).toBe('0.4%')
    expect(formatPercent(0.05)).toBe('5%')
    expect(formatPercent(0.123)).toBe('12%')
    expect(formatPercent(1)).toBe('100%')
  })
})
