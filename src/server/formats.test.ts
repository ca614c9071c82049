import { parse } from 'smol-toml'
import { describe, expect, it } from 'vitest'
import { toCsv } from './formats.js'
import { toToml } from './toml-format.js'

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

describe('toToml', () => {
  it('writes a TOML 1.0 document that parses back to the data: nulls left out, lists under the data name, times as date-times', () => {
    const at = new Date('2026-11-23T10:30:00.000Z')
    const rows = [
      { id: 'a', at, error: null, progress: { percent: 50, message: null }, tags: ['db', null, 'x'], args: { n: '9007199254740993', when: at }, big: 2n ** 64n, gone: undefined },
      { id: 'b', at: null, tags: [], data: [{ k: 1 }, 'mixed', 2] },
    ]
    const text = toToml(rows, 'runs')
    expect(parse(text)).toEqual({
      runs: [
        { id: 'a', at: expect.objectContaining({}) as unknown, progress: { percent: 50 }, tags: ['db', 'x'], args: { n: '9007199254740993', when: expect.objectContaining({}) as unknown }, big: '18446744073709551616' },
        { id: 'b', tags: [], data: [{ k: 1 }, 'mixed', 2] },
      ],
    })
    const first = (parse(text).runs as unknown as { at: Date }[])[0]!
    expect(new Date(first.at.toISOString()).getTime()).toBe(at.getTime())
    expect(text).toContain('at = 2026-11-23T10:30:00.000Z')
  })

  it('writes an object as the document itself, and a lone value under "value"', () => {
    expect(parse(toToml({ key: 'greet', dangerous: null, fields: [{ key: 'n', type: 'int' }] }, 'task'))).toEqual({ key: 'greet', fields: [{ key: 'n', type: 'int' }] })
    expect(parse(toToml('hello', 'x'))).toEqual({ value: 'hello' })
    expect(parse(toToml(null, 'x'))).toEqual({})
  })
})
