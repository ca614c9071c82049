/**
 * Errors as a run records them: plain data (message, code, class name, stack with causes), and
 * the reason a cancelled run's signal fired.
 */
import { CancelledError, TimeoutError } from '../../errors.js'
import type { RunError } from '../../task/context.js'

/** The cancel reason as an error: a `CancelledError`, keeping the signal's reason as cause. */
export function cancelReason(reason: unknown): Error {
  if (reason instanceof CancelledError || reason instanceof TimeoutError) return reason
  if (reason instanceof Error && reason.name !== 'AbortError') return new CancelledError(`cancelled: ${reason.message}`, { cause: reason })
  if (typeof reason === 'string' && reason !== '') return new CancelledError(`cancelled: ${reason}`)
  return new CancelledError('cancelled', { cause: reason })
}

/** An error as plain data for a result: message, code, class name, stack with causes. */
export function toRunError(err: Error): RunError {
  const code = (err as { code?: unknown }).code
  let stack = err.stack
  let cause = err.cause
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    stack = `${stack ?? err.message}\nCaused by: ${cause.stack ?? cause.message}`
    cause = cause.cause
  }
  const out: { -readonly [K in keyof RunError]: RunError[K] } = {
    message: err.message,
    code: typeof code === 'string' && code !== '' ? code : 'ERR_HANDLER',
    name: err.name,
  }
  if (stack !== undefined) out.stack = stack
  return out
}
