import { describe, expect, it } from 'vitest'
import { newId } from './ids.js'

describe('newId', () => {
  it('makes UUIDv7 strings that carry the creation time and sort in creation order', () => {
    const before = Date.now()
    const ids = Array.from({ length: 10_000 }, () => newId())
    const after = Date.now()
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
    const ms = parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16)
    expect(ms).toBeGreaterThanOrEqual(before)
    expect(ms).toBeLessThanOrEqual(after + 1)
  })
})
