import { describe, expect, expectTypeOf, it } from 'vitest'
import { TaskDefinitionError, ValidationError } from '../errors.js'
import { jsonText } from '../json-text.js'
import { defineTask } from './define.js'
import { fieldInfo, taskInfo } from './describe.js'
import { parseArgs, storedArgs, type Field } from './fields.js'

const BIG = '9007199254740993' // 2^53 + 1: a double cannot hold it

describe('field type aliases: number = int, boolean = bool', () => {
  const fields = [
    { key: 'n', type: 'number', min: 1 },
    { key: 'b', type: 'boolean' },
  ] as const satisfies readonly Field[]

  it('parse as the types they stand for, typed the same', () => {
    const args = parseArgs(fields, { n: '3', b: 'yes' })
    expect(args).toEqual({ n: 3, b: true })
    expectTypeOf(args).toEqualTypeOf<{ b: boolean; n?: number }>()
    expect(parseArgs(fields, {})).toEqual({ b: false })
    expect(() => parseArgs(fields, { n: '2.5' })).toThrow('invalid arguments: n: expected int >= 1, got 2.5 (number)')
    expect(() => parseArgs(fields, { n: 0 })).toThrow(/n: expected int >= 1, got 0 \(number\)/)
  })

  it('are stored as the type they stand for, so forms, the CLI and describe see one type', () => {
    const task = defineTask({ key: 'aliased', fields, run: () => 1 })
    expect(task.fields.map((f) => f.type)).toEqual(['int', 'bool'])
    expect(taskInfo(task).fields.map((f) => f.type)).toEqual(['int', 'bool'])
  })

  it('an unknown type is refused, naming the types and aliases', () => {
    expect(() => defineTask({ key: 'k', fields: [{ key: 'x', type: 'integer' }], run: () => 1 } as never)).toThrow(
      'task "k", field "x" (string): unknown type "integer" (string); expected one of string, int, float, bool, string[], time, int64 (or number, boolean, bigint)',
    )
  })
})

describe('int64 (alias bigint): integers beyond 2^53 kept exact', () => {
  const fields = [
    { key: 'id', type: 'int64', required: true },
    { key: 'big', type: 'bigint', default: BIG },
  ] as const satisfies readonly Field[]

  it('gives the handler a bigint from a decimal string, a safe JSON number or a bigint', () => {
    const args = parseArgs(fields, { id: BIG })
    expectTypeOf(args).toEqualTypeOf<{ id: bigint; big: bigint }>()
    expect(args).toEqual({ id: 9007199254740993n, big: 9007199254740993n })
    expect(parseArgs(fields, { id: -42 }).id).toBe(-42n)
    expect(parseArgs(fields, { id: 12n }).id).toBe(12n)
    expect(parseArgs(fields, { id: ' +7 ' }).id).toBe(7n)
    expect(parseArgs(fields, new URLSearchParams(`id=${BIG}`)).id).toBe(9007199254740993n)
    expect(parseArgs(fields, { id: '9223372036854775807' }).id).toBe(2n ** 63n - 1n)
    expect(parseArgs(fields, { id: '-9223372036854775808' }).id).toBe(-(2n ** 63n))
  })

  it('refuses non-integers, unsafe JSON numbers and values out of the int64 range, saying what it takes', () => {
    const expected = 'int64 from -2^63 to 2^63-1 (beyond 2^53 as a decimal string)'
    for (const bad of ['1.5', 1.5, 'abc', '1e3', 2 ** 53 + 2, '9223372036854775808', '-9223372036854775809', true, [1, 2]]) {
      const error = (() => {
        try {
          parseArgs(fields, { id: bad })
        } catch (e) {
          return e as ValidationError
        }
        throw new Error(`accepted ${String(bad)}`)
      })()
      expect(error).toBeInstanceOf(ValidationError)
      expect(error.fields).toMatchObject([{ key: 'id', expected }])
    }
    expect(() => parseArgs(fields, {})).toThrow(`id: required (${expected})`)
  })

  it('checks min and max, given as bigints or safe integers', () => {
    const bounded = [{ key: 'n', type: 'int64', min: 10, max: 2n ** 60n }] as const satisfies readonly Field[]
    expect(parseArgs(bounded, { n: String(2n ** 60n) }).n).toBe(2n ** 60n)
    expect(() => parseArgs(bounded, { n: String(2n ** 60n + 1n) })).toThrow('n: expected int64 from 10 to 1152921504606846976 (beyond 2^53 as a decimal string), got "1152921504606846977" (string)')
    expect(() => parseArgs(bounded, { n: 9 })).toThrow(/n: expected int64 from 10 to/)
    expect(() => defineTask({ key: 'k', fields: [{ key: 'n', type: 'int64', min: 1.5 }], run: () => 1 })).toThrow(TaskDefinitionError)
    expect(() => defineTask({ key: 'k', fields: [{ key: 'n', type: 'int64', min: 5, max: 1 }], run: () => 1 })).toThrow('task "k", field "n" (string): min 5 is greater than max 1')
    expect(() => defineTask({ key: 'k', fields: [{ key: 'n', type: 'int64', default: '1.5' }], run: () => 1 })).toThrow(/default "1.5" \(string\) is invalid: int64/)
  })

  it('is stored and shown in JSON as its decimal string, which parses back to the same bigint', () => {
    const args = parseArgs(fields, { id: BIG })
    const stored = storedArgs(args)
    expect(stored).toEqual({ id: BIG, big: BIG })
    expect(jsonText(stored)).toBe(`{"id":"${BIG}","big":"${BIG}"}`)
    expect(parseArgs(fields, JSON.parse(jsonText(stored)) as Record<string, unknown>)).toEqual(args)
    const plain = { n: 1 }
    expect(storedArgs(plain)).toBe(plain)
  })

  it('describes its default and bounds as decimal strings', () => {
    expect(fieldInfo({ key: 'n', type: 'bigint', default: 2n ** 60n, min: 0, max: 2n ** 62n })).toEqual({
      key: 'n',
      title: 'N',
      description: '',
      type: 'int64',
      required: false,
      default: '1152921504606846976',
      min: '0',
      max: '4611686018427387904',
    })
  })
})
