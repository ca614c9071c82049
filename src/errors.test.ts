/** The error catalog: every class carries a catalog code and keeps its cause; no code outside the catalog. */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  CancelledError,
  ConflictError,
  ERROR_CATALOG,
  ForbiddenError,
  LeaseLostError,
  NotFoundError,
  RetryLaterError,
  ShutdownError,
  TaskDefinitionError,
  TaskEngineError,
  TimeoutError,
  UnrecoverableError,
  ValidationError,
  recordedError,
} from './errors.js'

const cause = new Error('underneath')

describe('error catalog', () => {
  it('gives every error class a code of the catalog and keeps the cause it is given', () => {
    const errors: [TaskEngineError, string][] = [
      [new ValidationError('bad', [], { cause }), 'ERR_VALIDATION'],
      [new TaskDefinitionError('bad', { cause }), 'ERR_TASK_DEFINITION'],
      [new NotFoundError('gone', { cause }), 'ERR_NOT_FOUND'],
      [new ConflictError('taken', { cause }), 'ERR_CONFLICT'],
      [new ForbiddenError('no', { cause }), 'ERR_FORBIDDEN'],
      [new CancelledError('stop', { cause }), 'ERR_CANCELLED'],
      [new ShutdownError('shutting down', { cause }), 'ERR_SHUTDOWN'],
      [new LeaseLostError(undefined, { cause }), 'ERR_LEASE_LOST'],
      [new TimeoutError(5, { cause }), 'ERR_TIMEOUT'],
      [new UnrecoverableError('never', { cause }), 'ERR_UNRECOVERABLE'],
      [new RetryLaterError(10, undefined, { cause }), 'ERR_RETRY_LATER'],
    ]
    for (const [error, code] of errors) {
      expect(error.code, error.name).toBe(code)
      expect(Object.keys(ERROR_CATALOG)).toContain(error.code)
      expect(error.cause, error.name).toBe(cause)
      expect(error).toBeInstanceOf(TaskEngineError)
    }
  })

  it('gives a shutdown and a lost lease codes of their own, while a handler checking for cancellation still sees both as cancellations', () => {
    const shutdown = new ShutdownError()
    const lost = new LeaseLostError()
    expect([shutdown.code, shutdown.name]).toEqual(['ERR_SHUTDOWN', 'ShutdownError'])
    expect([lost.code, lost.name]).toEqual(['ERR_LEASE_LOST', 'LeaseLostError'])
    expect(shutdown).toBeInstanceOf(CancelledError)
    expect(lost).toBeInstanceOf(CancelledError)
    expect(new CancelledError().code).toBe('ERR_CANCELLED')
  })

  it('records the errors the engine itself ends runs with under catalog codes', () => {
    expect(recordedError('ERR_WORKER_LOST', 'WorkerLostError', 'worker lost')).toEqual({ code: 'ERR_WORKER_LOST', name: 'WorkerLostError', message: 'worker lost' })
  })

  it('has every ERR_ code the sources use in the catalog, with a meaning', () => {
    const root = fileURLToPath(new URL('.', import.meta.url))
    const used = new Map<string, string>()
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) {
          if (entry.name !== 'testing') walk(path)
        } else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) {
          for (const match of readFileSync(path, 'utf8').matchAll(/'(ERR_[A-Z_]+)'/g)) used.set(match[1]!, path)
        }
      }
    }
    walk(root)
    expect(used.size).toBeGreaterThan(15)
    // Codes of Node's own errors that the sources read (a module that cannot be loaded) are not ours.
    const node = new Set(['ERR_MODULE_NOT_FOUND'])
    const outside = [...used].filter(([code]) => !(code in ERROR_CATALOG) && !node.has(code)).map(([code, path]) => `${code} in ${path}`)
    expect(outside).toEqual([])
    for (const entry of Object.values(ERROR_CATALOG)) expect(entry.meaning.length).toBeGreaterThan(10)
  })

  it("lists every code in the README's table with the status the API answers it with", () => {
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8')
    const rows = new Map([...readme.matchAll(/^\| `(ERR_[A-Z_]+)` \| (\d{3}|run) \|/gm)].map((m) => [m[1]!, m[2]!]))
    const expected = new Map(Object.entries(ERROR_CATALOG).map(([code, entry]) => [code, entry.status === null ? 'run' : String(entry.status)]))
    expect(rows).toEqual(expected)
  })
})
