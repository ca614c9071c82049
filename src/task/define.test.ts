import { describe, expect, it } from 'vitest'
import { ConflictError, NotFoundError, TaskDefinitionError } from '../errors.js'
import { defineTask, isTask, type AnyTask } from './define.js'
import { TaskRegistry } from './registry.js'

const noop = (): void => undefined

describe('defineTask', () => {
  it('fills metadata defaults', () => {
    const task = defineTask({ key: 'db-backup', run: noop })
    expect(task).toMatchObject({
      key: 'db-backup',
      title: 'Db Backup',
      category: 'general',
      icon: 'cog',
      description: '',
      tags: [],
      dangerous: undefined,
      expensive: false,
      webUrl: '/admin/task/db-backup',
      maxConcurrent: undefined,
      fields: [],
      timeoutMs: undefined,
    })
    expect(isTask(task)).toBe(true)
    expect(isTask({ key: 'x', run: noop })).toBe(false)
  })

  it('keeps the metadata it is given', () => {
    const task = defineTask({
      key: 'backup',
      title: 'Database Backup',
      category: 'maintenance',
      icon: 'database',
      description: 'Creates a database backup',
      tags: ['db', 'maintenance'],
      dangerous: 'May lock tables during backup',
      expensive: true,
      webUrl: '/custom',
      maxConcurrent: 4,
      fields: [{ key: 'format', title: 'Format', type: 'string', default: 'sql', choices: ['sql', 'tar'] }],
      run: noop,
    })
    expect(task).toMatchObject({
      title: 'Database Backup',
      category: 'maintenance',
      icon: 'database',
      tags: ['db', 'maintenance'],
      dangerous: 'May lock tables during backup',
      expensive: true,
      webUrl: '/custom',
      maxConcurrent: 4,
    })
    expect(Object.isFrozen(task)).toBe(true)
    expect(Object.isFrozen(task.fields[0])).toBe(true)
  })

  it('rejects malformed definitions with a message naming the task and property', () => {
    const define = (options: Record<string, unknown>) => () => defineTask({ run: noop, ...options } as never)
    expect(define({ key: '' })).toThrow(TaskDefinitionError)
    expect(define({ key: 'has space' })).toThrow(/invalid task key "has space" \(string\)/)
    expect(define({ key: '-lead' })).toThrow(/invalid task key "-lead"/)
    expect(define({ key: 'x'.repeat(101) })).toThrow(/invalid task key/)
    expect(define({ key: 42 })).toThrow(/invalid task key 42 \(number\)/)
    expect(define({ key: 'k', run: 'nope' })).toThrow(/task "k": run must be a function, got "nope" \(string\)/)
    expect(define({ key: 'k', onSuccess: 1 })).toThrow(/task "k": onSuccess must be a function/)
    expect(define({ key: 'k', title: 5 })).toThrow(/task "k": title must be a string, got 5 \(number\)/)
    expect(define({ key: 'k', tags: 'db' })).toThrow(/task "k": tags must be an array of non-empty strings/)
    expect(define({ key: 'k', maxConcurrent: -2 })).toThrow(/task "k": maxConcurrent: expected a positive integer, 0 \(available parallelism\) or -1 \(128\), got -2 \(number\)/)
    expect(define({ key: 'k', maxConcurrent: 1.5 })).toThrow(/maxConcurrent/)
    expect(define({ key: 'k', timeoutMs: 0 })).toThrow(/task "k": timeoutMs: expected a positive number of milliseconds, got 0/)
    expect(define({ key: 'k', fields: [{ key: 'f', type: 'int', default: 'x' }] })).toThrow(/task "k", field "f" \(string\): default "x" \(string\) is invalid: int/)
  })

  it('keeps run defaults frozen, and rejects malformed or misplaced ones naming the property', () => {
    expect(defineTask({ key: 'plain', run: noop }).defaults).toEqual({})
    const task = defineTask({ key: 'digest', defaults: { label: 'daily', delayMs: 0, notAfterMs: 60_000, createdBy: 'cron', category: 'system', tags: ['mail'] }, run: noop })
    expect(task.defaults).toEqual({ label: 'daily', delayMs: 0, notAfterMs: 60_000, createdBy: 'cron', category: 'system', tags: ['mail'] })
    expect(Object.isFrozen(task.defaults) && Object.isFrozen(task.defaults.tags)).toBe(true)
    const define = (defaults: unknown) => () => defineTask({ key: 'k', run: noop, defaults } as never)
    expect(define('daily')).toThrow(/task "k": defaults must be an object, got "daily" \(string\)/)
    expect(define({ queue: 'mail' })).toThrow('task "k": defaults.queue: unknown option (known: label, delayMs, notAfterMs, createdBy, category, tags); queue is set on the task itself, not in defaults')
    expect(define({ lable: 'daily' })).toThrow('task "k": defaults.lable: unknown option (did you mean label?)')
    expect(define({ label: '' })).toThrow(/task "k": defaults.label must be a non-empty string, got "" \(string\)/)
    expect(define({ createdBy: 7 })).toThrow(/defaults.createdBy must be a non-empty string, got 7 \(number\)/)
    expect(define({ delayMs: -1 })).toThrow(/task "k": defaults.delayMs: expected a non-negative number of milliseconds, got -1 \(number\)/)
    expect(define({ notAfterMs: 0 })).toThrow(/task "k": defaults.notAfterMs: expected a positive number of milliseconds, got 0 \(number\)/)
    expect(define({ category: 'admin' })).toThrow(/defaults.category must be "user" or "system", got "admin" \(string\)/)
    expect(define({ tags: ['ok', ''] })).toThrow(/defaults.tags must be an array of non-empty strings/)
  })

  it('accepts -1 and 0 for maxConcurrent', () => {
    expect(defineTask({ key: 'a', maxConcurrent: -1, run: noop }).maxConcurrent).toBe(-1)
    expect(defineTask({ key: 'b', maxConcurrent: 0, run: noop }).maxConcurrent).toBe(0)
  })
})

describe('TaskRegistry', () => {
  const task = (key: string, category?: string): AnyTask => defineTask({ key, ...(category === undefined ? {} : { category }), run: noop })

  it('registers, gets, lists sorted by key, groups by category', () => {
    const registry = new TaskRegistry()
    registry.register(task('zeta', 'b'), task('alpha', 'b'), task('mid', 'a'))
    expect(registry.list().map((t) => t.key)).toEqual(['alpha', 'mid', 'zeta'])
    expect(registry.get('mid')?.key).toBe('mid')
    expect(registry.get('none')).toBeUndefined()
    expect(registry.categories().map((c) => [c.name, c.tasks.map((t) => t.key)])).toEqual([
      ['a', ['mid']],
      ['b', ['alpha', 'zeta']],
    ])
  })

  it('refuses a duplicate key, naming it, and registers nothing from that call', () => {
    const registry = new TaskRegistry()
    registry.register(task('one'))
    expect(() => registry.register(task('two'), task('one'))).toThrow(ConflictError)
    expect(() => registry.register(task('two'), task('one'))).toThrow('a task with key "one" is already registered')
    expect(() => registry.register(task('x'), task('x'))).toThrow('"x"')
    expect(registry.list().map((t) => t.key)).toEqual(['one'])
  })

  it('refuses things that are not tasks', () => {
    expect(() => new TaskRegistry().register({ key: 'fake' } as never)).toThrow(/takes tasks made by defineTask\(\), got \{"key":"fake"\}/)
  })

  it('removes exactly the task asked for', () => {
    const registry = new TaskRegistry()
    registry.register(task('a'), task('ab'), task('b'))
    expect(registry.remove('a')).toBe(true)
    expect(registry.remove('a')).toBe(false)
    expect(registry.list().map((t) => t.key)).toEqual(['ab', 'b'])
    expect(() => registry.require('a')).toThrow(NotFoundError)
    expect(() => registry.require('a')).toThrow('unknown task "a"')
  })
})
