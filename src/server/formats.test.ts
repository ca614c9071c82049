import { describe, expect, it } from 'vitest'
import { toCsv } from './formats.js'

describe('toCsv', () => {
  it('writes one row per item with flat columns, values as JSON would show them', () => {
    const csv = toCsv([
      { id: 'a', at: new Date('2026-11-23T10:30:00.000Z'), progress: { percent: 50, step: 1 }, tags: ['db', 'nightly'], attempts: [{ n: 1 }], big: 12n, gone: undefined },
      { id: 'b', at: null, progress: null, tags: [], note: '=HYPERLINK("x")' },
    ])
    expect(csv.trimEnd().split('\n')).toEqual([
      'id,at,progress.percent,progress.step,tags,attempts,big,progress,note',
      'a,2026-11-23T10:30:00.000Z,50,1,db; nightly,"[{""n"":1}]",12,,',
      `b,,,,,,,,"'=HYPERLINK(""x"")"`,
    ])
  })

  it('keeps the header of an empty list when columns are given', () => {
    expect(toCsv([], ['id', 'status'])).toBe('id,status\n')
    expect(toCsv([])).toBe('')
  })
})
