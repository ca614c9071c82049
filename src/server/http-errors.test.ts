/** The API's error answers: the status comes from the catalog, the body is one shape, internals stay inside. */
import { describe, expect, it } from 'vitest'
import { ERROR_CATALOG, NotFoundError, ShutdownError, ValidationError, type ErrorCode } from '../errors.js'
import { HttpError, toHttpError } from './http-errors.js'

describe('HTTP errors', () => {
  it('answers every code of the catalog that has a status with that status and the code', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOG) as [ErrorCode, (typeof ERROR_CATALOG)[ErrorCode]][]) {
      if (entry.status === null) continue
      const { status, body } = toHttpError(new HttpError(code, `about ${code}`))
      expect([code, status]).toEqual([code, entry.status])
      expect(body).toEqual({ error: { code, message: `about ${code}` } })
    }
  })

  it('answers the engine’s own errors by their code, with the fields of a validation error', () => {
    expect(toHttpError(new NotFoundError('no run "x"'))).toMatchObject({ status: 404, body: { error: { code: 'ERR_NOT_FOUND', message: 'no run "x"' } }, internal: undefined })
    const issue = { key: 'n', expected: 'int', received: '"a" (string)', message: 'n: expected int, got "a" (string)' }
    expect(toHttpError(new ValidationError('invalid arguments', [issue]))).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION', fields: [issue] } } })
    expect(toHttpError(new HttpError('ERR_VALIDATION', 'invalid query', [issue])).body.error.fields).toEqual([issue])
  })

  it('answers anything else, and the codes runs end with, as a 500 that shows nothing and is reported', () => {
    const secret = new Error('password=hunter2')
    const unknown = toHttpError(secret)
    expect(unknown).toEqual({ status: 500, body: { error: { code: 'ERR_INTERNAL', message: 'internal server error' } }, internal: secret })
    const shutdown = new ShutdownError()
    expect(toHttpError(shutdown)).toMatchObject({ status: 500, internal: shutdown })
  })
})
