/** The errors the stores themselves record on runs (as run errors, and as the JSON text they store). */
import { recordedError } from '../../errors.js'
import type { RunError } from '../../task/context.js'

/** The error recorded on a run that expired before it started. */
export const EXPIRED_ERROR: RunError = recordedError('ERR_EXPIRED', 'ExpiredError', 'expired: not started before its notAfter time')

/** The error recorded on a run cancelled before it started, or whose cancelled worker died. */
export function cancelledError(reason: string | null): RunError {
  return recordedError('ERR_CANCELLED', 'CancelledError', reason === null || reason === '' ? 'cancelled' : `cancelled: ${reason}`)
}

/** {@link cancelledError} without a reason, as JSON: a cancel requested elsewhere that wins over a retry or release. */
export const CANCELLED_ERROR_JSON = JSON.stringify(cancelledError(null))
/** The error of a run whose worker died while its cancel was requested, as JSON. */
export const LOST_WHILE_CANCELLING_JSON = JSON.stringify(cancelledError('worker lost while cancelling'))
/** The error of a pending run cancelled because it was deleted, as JSON. */
export const DELETED_ERROR_JSON = JSON.stringify(cancelledError('deleted'))
/** {@link EXPIRED_ERROR} as JSON. */
export const EXPIRED_ERROR_JSON = JSON.stringify(EXPIRED_ERROR)
