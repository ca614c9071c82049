/** A task as data for the API and the CLI: its limits are shown. */
import { describe, expect, it } from 'vitest'
import { defineTask } from './define.js'
import { taskInfo } from './describe.js'

describe('taskInfo', () => {
  it('shows the per-process limit and the limit across every worker, null when not set', () => {
    const limited = taskInfo(defineTask({ key: 'sync', maxConcurrent: 2, limits: { concurrency: 5 }, queue: 'tenants', run: () => undefined }))
    expect(limited).toMatchObject({ key: 'sync', maxConcurrent: 2, concurrency: 5, queue: 'tenants' })
    expect(taskInfo(defineTask({ key: 'free', run: () => undefined }))).toMatchObject({ maxConcurrent: null, concurrency: null, queue: 'default' })
  })
})
