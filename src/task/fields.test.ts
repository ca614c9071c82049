import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { checkFields, parseArgs, titleCase, type Field } from './fields.js'

function issuesOf(fn: () => unknown): ValidationError {
  try {
    fn()
  } catch (error) {
    if (error instanceof ValidationError) return error
    throw error
  }
  throw new Error('expected a ValidationError')
}

describe('parseArgs: text input (query strings, CLI flags, form posts)', () => {
  const fields = [
    { key: 's', type: 'string' },
    { key: 'i', type: 'int' },
    { key: 'f', type: 'float' },
    { key: 'b', type: 'bool' },
    { key: 'l', type: 'string[]' },
    { key: 't', type: 'time' },
  ] as const satisfies readonly Field[]

  it('coerces every type from strings', () => {
    const args = parseArgs(fields, { s: 'hello', i: '3', f: '2.5', b: 'true', l: 'a, b,c', t: '2026-11-23T10:30:00Z' })
    expect(args).toEqual({ s: 'hello', i: 3, f: 2.5, b: true, l: ['a', 'b', 'c'], t: new Date('2026-11-23T10:30:00Z') })
  })

  it('reads URLSearchParams, repeated parameters as lists', () => {
    const args = parseArgs(fields, new URLSearchParams('s=x&i=-7&b=on&l=one&l=two,three&f=1e3'))
    expect(args).toEqual({ s: 'x', i: -7, f: 1000, b: true, l: ['one', 'two,three'] })
  })

  it('accepts the usual spellings of booleans', () => {
    for (const yes of ['true', 'TRUE', '1', 'yes', 'on', 'y']) expect(parseArgs(fields, { b: yes }).b).toBe(true)
    for (const no of ['false', '0', 'no', 'off', 'n']) expect(parseArgs(fields, { b: no }).b).toBe(false)
    expect(() => parseArgs(fields, { b: 'maybe' })).toThrow(/b: expected bool \(true\/false\), got "maybe" \(string\)/)
  })

  it('reads times: dates, times without seconds, offsets; no zone means UTC', () => {
    expect(parseArgs(fields, { t: '2026-11-23' }).t).toEqual(new Date('2026-11-23T00:00:00Z'))
    expect(parseArgs(fields, { t: '2026-11-23T10:30' }).t).toEqual(new Date('2026-11-23T10:30:00Z'))
    expect(parseArgs(fields, { t: '2026-11-23 10:30:15.250' }).t).toEqual(new Date('2026-11-23T10:30:15.250Z'))
    expect(parseArgs(fields, { t: '2026-11-23T10:30:00+01:00' }).t).toEqual(new Date('2026-11-23T09:30:00Z'))
    expect(parseArgs(fields, { t: '2026-11-23T10:30:00+0100' }).t).toEqual(new Date('2026-11-23T09:30:00Z'))
    expect(() => parseArgs(fields, { t: 'next tuesday' })).toThrow(/t: expected time/)
    expect(() => parseArgs(fields, { t: '2026-13-45' })).toThrow(/t: expected time/)
    expect(() => parseArgs(fields, { t: '2026-02-31' })).toThrow(/t: expected time/)
    expect(parseArgs(fields, { t: '2028-02-29' }).t).toEqual(new Date('2028-02-29T00:00:00Z'))
  })

  it('treats empty strings as not given, so empty form inputs fall back to defaults', () => {
    const withDefaults = [
      { key: 'n', type: 'int', default: 5 },
      { key: 'name', type: 'string', default: 'x' },
    ] as const
    expect(parseArgs(withDefaults, { n: '', name: '' })).toEqual({ n: 5, name: 'x' })
  })

  it('rejects text that is not wholly a number', () => {
    const error = issuesOf(() => parseArgs(fields, { i: '3.5', f: '12abc' }))
    expect(error.fields.map((f) => f.key)).toEqual(['i', 'f'])
    expect(() => parseArgs(fields, { i: '1e3' })).toThrow(/i: expected int/)
    expect(() => parseArgs(fields, { f: 'Infinity' })).toThrow(/f: expected float/)
    expect(() => parseArgs(fields, { i: '99999999999999999999' })).toThrow(/i: expected int/)
  })
})

describe('parseArgs: JSON input', () => {
  it('takes JSON values as they are and keeps types strict', () => {
    const fields = [
      { key: 'n', type: 'int' },
      { key: 'x', type: 'float' },
      { key: 'on', type: 'bool' },
      { key: 'list', type: 'string[]' },
      { key: 'at', type: 'time' },
      { key: 'name', type: 'string' },
    ] as const
    expect(parseArgs(fields, { n: 4, x: 0.5, on: false, list: ['a,b', 'c'], at: 0, name: 'z' })).toEqual({
      n: 4,
      x: 0.5,
      on: false,
      list: ['a,b', 'c'],
      at: new Date(0),
      name: 'z',
    })
    const error = issuesOf(() => parseArgs(fields, { n: 4.5, x: '0.5', on: 'yes', list: [1, 2], at: true, name: 42 }))
    expect(error.fields.map((f) => f.key)).toEqual(['n', 'list', 'at', 'name'])
  })

  it('unwraps a one-element array for scalar fields (a repeated-parameter parser)', () => {
    expect(parseArgs([{ key: 'n', type: 'int' }] as const, { n: ['7'] })).toEqual({ n: 7 })
    expect(() => parseArgs([{ key: 'n', type: 'int' }] as const, { n: ['7', '8'] })).toThrow(/n: expected int, got \["7","8"\] \(array\)/)
  })

  it('rejects input that is not an object', () => {
    expect(() => parseArgs([], 'format=tar' as never)).toThrow(/expected an object of field values, got "format=tar" \(string\)/)
    expect(() => parseArgs([], [1] as never)).toThrow(/got \[1\] \(array\)/)
  })
})

describe('parseArgs: defaults, required, choices, ranges, unknown keys', () => {
  const fields = [
    { key: 'format', type: 'string', default: 'sql', choices: ['sql', 'tar'] },
    { key: 'name', type: 'string', required: true },
    { key: 'count', type: 'int', min: 1, max: 10, default: 1 },
    { key: 'verbose', type: 'bool' },
    { key: 'colors', type: 'string[]', choices: ['red', 'blue'] },
    { key: 'since', type: 'time', default: '2026-01-01T00:00:00Z' },
    { key: 'optional', type: 'float' },
  ] as const

  it('fills defaults; bools default to false; optional fields stay absent', () => {
    const args = parseArgs(fields, { name: 'n' })
    expect(args).toEqual({ format: 'sql', name: 'n', count: 1, verbose: false, since: new Date('2026-01-01T00:00:00Z') })
    expect('optional' in args).toBe(false)
    expect('colors' in args).toBe(false)
  })

  it('reports every bad field at once: key, expected type, value given', () => {
    const error = issuesOf(() => parseArgs(fields, { format: 'zip', count: '11', colors: 'red,green', verbose: 'sometimes', extra: 1 }))
    expect(error.code).toBe('ERR_VALIDATION')
    expect(error.fields).toEqual([
      { key: 'format', expected: 'one of "sql", "tar"', received: '"zip" (string)', message: 'format: expected one of "sql", "tar", got "zip" (string)' },
      { key: 'name', expected: 'string', received: undefined, message: 'name: required (string)' },
      { key: 'count', expected: 'int from 1 to 10', received: '11 (number)', message: 'count: expected int from 1 to 10, got 11 (number)' },
      { key: 'verbose', expected: 'bool (true/false)', received: '"sometimes" (string)', message: 'verbose: expected bool (true/false), got "sometimes" (string)' },
      { key: 'colors', expected: 'a list of "red", "blue"', received: '"red,green" (string)', message: 'colors: expected a list of "red", "blue", got "red,green" (string)' },
      {
        key: 'extra',
        expected: 'a known field (format, name, count, verbose, colors, since, optional)',
        received: '1 (number)',
        message: 'extra: unknown field (known fields: format, name, count, verbose, colors, since, optional)',
      },
    ])
    expect(error.message).toMatch(/^invalid arguments: format: expected one of "sql", "tar", got "zip" \(string\); name: required/)
  })

  it('shows a number typed as text (a form, a query) as the number it reads as, and other text as text', () => {
    const numbers = [
      { key: 'count', type: 'int', max: 100 },
      { key: 'ratio', type: 'float', min: 0, max: 1 },
      { key: 'whole', type: 'int' },
      { key: 'word', type: 'int' },
    ] as const
    const error = issuesOf(() => parseArgs(numbers, { count: '500', ratio: [' 1.5 '], whole: '2.5', word: 'five' }))
    expect(error.fields.map((f) => f.message)).toEqual([
      'count: expected int <= 100, got 500 (number)',
      'ratio: expected float from 0 to 1, got 1.5 (number)',
      'whole: expected int, got 2.5 (number)',
      'word: expected int, got "five" (string)',
    ])
  })

  it('ignores unknown keys when asked (query strings carrying other parameters)', () => {
    expect(parseArgs(fields, { name: 'n', page: '2' }, { unknownKeys: 'ignore' })).not.toHaveProperty('page')
  })

  it('does not read inherited properties as input', () => {
    const input = Object.create({ name: 'inherited' }) as Record<string, unknown>
    expect(() => parseArgs(fields, input)).toThrow(/name: required/)
  })

  it('returns fresh default lists and dates, so a run cannot change a default for the next', () => {
    const listFields = [
      { key: 'l', type: 'string[]', default: ['a'] },
      { key: 't', type: 'time', default: new Date(0) },
    ] as const
    const first = parseArgs(listFields, {})
    first.l.push('mutated')
    first.t.setTime(5)
    expect(parseArgs(listFields, {})).toEqual({ l: ['a'], t: new Date(0) })
  })
})

describe('checkFields', () => {
  const bad = (fields: unknown[]) => () => checkFields('demo', fields as Field[])
  it('names the task and field of each definition problem', () => {
    expect(bad([{ key: '1x', type: 'string' }])).toThrow(/task "demo", field "1x" \(string\): a field key must start/)
    expect(bad([{ key: 'a', type: 'string' }, { key: 'a', type: 'int' }])).toThrow(/field "a" \(string\): duplicate field key/)
    expect(bad([{ key: 'a', type: 'integer' }])).toThrow(/unknown type "integer" \(string\); expected one of string, int, float, bool, string\[\], time/)
    expect(bad([{ key: 'a', type: 'string', choices: [] }])).toThrow(/choices must be a non-empty array/)
    expect(bad([{ key: 'a', type: 'int', choices: [1, 'two'] }])).toThrow(/choice "two" \(string\) is not a int/)
    expect(bad([{ key: 'a', type: 'string', choices: ['x'], default: 'y' }])).toThrow(/default "y" \(string\) is invalid: one of "x"/)
    expect(bad([{ key: 'a', type: 'int', min: 5, max: 1 }])).toThrow(/min 5 is greater than max 1/)
    expect(bad(['a'])).toThrow(/each field must be an object, got "a" \(string\)/)
  })
  it('accepts a valid list', () => {
    expect(bad([{ key: 'a', type: 'string[]', choices: ['x', 'y'], default: ['x'] }])).not.toThrow()
  })
})

describe('titleCase', () => {
  it('turns keys into titles', () => {
    expect(titleCase('db-backup')).toBe('Db Backup')
    expect(titleCase('max_items')).toBe('Max Items')
    expect(titleCase('sendEmail')).toBe('Send Email')
    expect(titleCase('reports.daily')).toBe('Reports Daily')
  })
})
