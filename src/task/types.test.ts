/**
 * Type tests: a task's inferred argument and result types are part of the public contract.
 * They are checked by `tsc` (npm test's typecheck step); the runtime assertions are a bonus.
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import { createEngine, defineTask, type ArgsOf, type RunResult, type Task } from '../index.js'

describe('inferred types', () => {
  it('types ctx.args from the fields: choices become unions, defaults and bools are present, others optional', () => {
    const task = defineTask({
      key: 'typed',
      fields: [
        { key: 'format', type: 'string', default: 'sql', choices: ['sql', 'tar'] },
        { key: 'name', type: 'string', required: true },
        { key: 'note', type: 'string' },
        { key: 'count', type: 'int', default: 3 },
        { key: 'ratio', type: 'float' },
        { key: 'level', type: 'int', choices: [1, 2, 3], default: 1 },
        { key: 'verbose', type: 'bool' },
        { key: 'tags', type: 'string[]' },
        { key: 'colors', type: 'string[]', choices: ['red', 'blue'], default: ['red'] },
        { key: 'at', type: 'time', required: true },
      ],
      run(ctx) {
        expectTypeOf(ctx.args).toEqualTypeOf<{
          format: 'sql' | 'tar'
          name: string
          note?: string
          count: number
          ratio?: number
          level: 1 | 2 | 3
          verbose: boolean
          tags?: string[]
          colors: ('red' | 'blue')[]
          at: Date
        }>()
        return { file: `backup.${ctx.args.format}` }
      },
    })
    expectTypeOf(task).toEqualTypeOf<
      Task<
        {
          format: 'sql' | 'tar'
          name: string
          note?: string
          count: number
          ratio?: number
          level: 1 | 2 | 3
          verbose: boolean
          tags?: string[]
          colors: ('red' | 'blue')[]
          at: Date
        },
        { file: string }
      >
    >()
    expect(task.key).toBe('typed')
  })

  it('infers the result data type from an async handler, and a task without fields takes no args', async () => {
    const noArgs = defineTask({ key: 'no-args', run: async () => ({ n: 1 }) })
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- no fields: an object with no keys
    expectTypeOf(noArgs).toEqualTypeOf<Task<{}, { n: number }>>()
    const engine = createEngine().register(noArgs)
    const result = await engine.run(noArgs)
    expectTypeOf(result).toEqualTypeOf<RunResult<{ n: number }>>()
    expectTypeOf(result.data).toEqualTypeOf<{ n: number } | undefined>()
    expect(result.data).toEqual({ n: 1 })
  })

  it('rejects arguments of the wrong type and unknown keys at compile time for task objects', () => {
    const task = defineTask({ key: 'typed-run', fields: [{ key: 'count', type: 'int', default: 1 }], run: (ctx) => ctx.args.count * 2 })
    const engine = createEngine({ retention: false }).register(task)
    // Strings are accepted: they are coerced like query parameters.
    void engine.run(task, { count: '2' })
    // @ts-expect-error -- unknown field
    void engine.run(task, { cuont: 2 }).catch(() => undefined)
    // @ts-expect-error -- a Date is not an int
    void engine.run(task, { count: new Date() }).catch(() => undefined)
    expect(engine.list()).toHaveLength(1)
  })

  it('rejects ill-typed definitions at compile time', () => {
    expect(() =>
      defineTask({
        key: 'bad-default',
        // @ts-expect-error -- an int field's default must be a number
        fields: [{ key: 'n', type: 'int', default: 'three' }],
        run: () => undefined,
      }),
    ).toThrow(/default "three" \(string\) is invalid/)
    expect(() =>
      // @ts-expect-error -- unknown field type
      defineTask({ key: 'bad-type', fields: [{ key: 'n', type: 'integer' }], run: () => undefined }),
    ).toThrow(/unknown type "integer"/)
  })

  it('types run defaults: a category is user or system, tags are strings', () => {
    const task = defineTask({ key: 'typed-defaults', defaults: { category: 'system', tags: ['a'], notAfterMs: 1000 }, run: () => undefined })
    expectTypeOf(task.defaults.category).toEqualTypeOf<'user' | 'system' | undefined>()
    expect(() =>
      // @ts-expect-error -- a run category is user or system
      defineTask({ key: 'bad-category', defaults: { category: 'admin' }, run: () => undefined }),
    ).toThrow(/defaults.category must be "user" or "system"/)
    expect(() =>
      // @ts-expect-error -- the queue is set on the task itself, not in defaults
      defineTask({ key: 'bad-default-key', defaults: { queue: 'mail' }, run: () => undefined }),
    ).toThrow(/defaults.queue: unknown option .*; queue is set on the task itself/)
  })

  it('gives Record<string, unknown> for fields not known at compile time', () => {
    type DynamicFields = { key: string; type: 'string' }[]
    expectTypeOf<ArgsOf<DynamicFields>>().toEqualTypeOf<Record<string, unknown>>()
  })
})
