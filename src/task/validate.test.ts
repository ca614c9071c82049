import { describe, expect, expectTypeOf, it } from 'vitest'
import { TaskDefinitionError, ValidationError } from '../errors.js'
import { defineTask } from './define.js'
import { parseTaskArgs } from './validate.js'

function caught(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}

const range = defineTask({
  key: 'range',
  fields: [
    { key: 'start', type: 'int', required: true },
    { key: 'end', type: 'int', required: true },
    { key: 'note', type: 'string' },
  ],
  validate: ({ start, end }) => (end < start ? { field: 'end', message: 'must be after start' } : undefined),
  run: (ctx) => ctx.args.end - ctx.args.start,
})

describe('validate: a task checks its arguments as a whole', () => {
  it('passes arguments it accepts, typed', () => {
    expect(parseTaskArgs(range, { start: '1', end: 3 })).toEqual({ start: 1, end: 3 })
  })

  it('turns a returned issue into a field issue naming the field, its value and the message', () => {
    const error = caught(() => parseTaskArgs(range, { start: 5, end: 2 })) as ValidationError
    expect(error).toBeInstanceOf(ValidationError)
    expect(error.message).toBe('invalid arguments: end: must be after start')
    expect(error.fields).toEqual([{ key: 'end', expected: 'must be after start', received: '2 (number)', message: 'end: must be after start', origin: 'validate' }])
  })

  it('runs only once every field has parsed: field problems come alone', () => {
    let calls = 0
    const task = defineTask({ key: 'counted', fields: [{ key: 'n', type: 'int', required: true }], validate: () => void calls++, run: () => 1 })
    const error = caught(() => parseTaskArgs(task, { n: 'x' })) as ValidationError
    expect(error.fields.map((f) => f.key)).toEqual(['n'])
    expect(calls).toBe(0)
    parseTaskArgs(task, { n: 2 })
    expect(calls).toBe(1)
  })

  it('takes a message, a list of messages and issues; a message without a field is about the whole arguments (key "")', () => {
    const task = defineTask({
      key: 'many',
      fields: [{ key: 'a', type: 'string' }, { key: 'b', type: 'string' }],
      validate: ({ a, b }) => {
        if (a === 'one') return 'give a and b together'
        if (a === 'list') return ['first problem', { field: 'b', message: 'must differ from a' }, { message: 'third problem' }]
        return a === b ? [] : null
      },
      run: () => 1,
    })
    expect((caught(() => parseTaskArgs(task, { a: 'one' })) as ValidationError).fields).toEqual([
      { key: '', expected: 'give a and b together', received: undefined, message: 'give a and b together', origin: 'validate' },
    ])
    const list = caught(() => parseTaskArgs(task, { a: 'list', b: 'x' })) as ValidationError
    expect(list.fields.map((f) => [f.key, f.message])).toEqual([
      ['', 'first problem'],
      ['b', 'b: must differ from a'],
      ['', 'third problem'],
    ])
    expect(list.message).toBe('invalid arguments: first problem; b: must differ from a; third problem')
    expect(parseTaskArgs(task, { a: 'same', b: 'same' })).toEqual({ a: 'same', b: 'same' })
    expect(parseTaskArgs(task, { a: 'x', b: 'y' })).toEqual({ a: 'x', b: 'y' })
  })

  it('keeps the field names of a thrown ValidationError; one without fields is about the whole arguments', () => {
    const issue = { key: 'end', expected: 'a later day', received: '1 (number)', message: 'end: expected a later day, got 1 (number)' }
    const thrower = (error: Error) => defineTask({ key: 'thrower', fields: [{ key: 'end', type: 'int' }], validate: () => { throw error }, run: () => 1 })
    const kept = caught(() => parseTaskArgs(thrower(new ValidationError('bad', [issue])), { end: 1 })) as ValidationError
    expect(kept).toBeInstanceOf(ValidationError)
    expect(kept.fields).toEqual([issue])
    const whole = caught(() => parseTaskArgs(thrower(new ValidationError('not on a Sunday')), { end: 1 })) as ValidationError
    expect(whole.fields).toEqual([{ key: '', expected: 'not on a Sunday', received: undefined, message: 'not on a Sunday', origin: 'validate' }])
    // Any other error is a bug in validate, not bad input: it passes through as it is.
    const bug = new TypeError('oops')
    expect(caught(() => parseTaskArgs(thrower(bug), { end: 1 }))).toBe(bug)
  })

  it('refuses a malformed return value or a promise, naming the task', () => {
    const returning = (value: unknown) => defineTask({ key: 'odd', validate: () => value as never, run: () => 1 })
    expect(() => parseTaskArgs(returning(42), {})).toThrow(TaskDefinitionError)
    expect(() => parseTaskArgs(returning(42), {})).toThrow('task "odd": validate must return nothing, a message, { field?, message } or a list of them, got 42 (number)')
    expect(() => parseTaskArgs(returning({ field: 'x' }), {})).toThrow(/got \{"field":"x"\} \(object\)/)
    expect(() => parseTaskArgs(returning(['']), {})).toThrow(/got "" \(string\)/)
    expect(() => parseTaskArgs(returning(Promise.resolve('late')), {})).toThrow('task "odd": validate must be synchronous (it returned a promise); check what needs I/O in the handler')
  })
})

describe('defineTask: validate and unknown keys', () => {
  const noop = (): void => undefined

  it('types validate from the fields: typed arguments, and a field name must be a field', () => {
    defineTask({
      key: 'typed',
      fields: [{ key: 'n', type: 'int', required: true }],
      validate: (args) => {
        expectTypeOf(args).toEqualTypeOf<{ n: number }>()
        return args.n > 1 ? { field: 'n', message: 'too big' } : undefined
      },
      run: noop,
    })
    defineTask({
      key: 'typo',
      fields: [{ key: 'n', type: 'int', required: true }],
      // @ts-expect-error -- "m" is not a field of this task
      validate: () => ({ field: 'm', message: 'too small' }),
      run: noop,
    })
  })

  it('refuses a validate that is not a function, or is async', () => {
    expect(() => defineTask({ key: 'k', validate: 'yes', run: noop } as never)).toThrow('task "k": validate must be a function of the arguments, got "yes" (string)')
    expect(() => defineTask({ key: 'k', validate: async () => undefined, run: noop } as never)).toThrow('task "k": validate must be synchronous (it is an async function); check what needs I/O in the handler')
  })

  it('refuses an unknown definition key, naming it and the key probably meant', () => {
    expect(() => defineTask({ key: 'k', validat: () => undefined, run: noop } as never)).toThrow('task "k": validat: unknown option (did you mean validate?)')
    expect(() => defineTask({ key: 'k', verify: () => undefined, run: noop } as never)).toThrow(/task "k": verify: unknown option \(/)
  })
})
